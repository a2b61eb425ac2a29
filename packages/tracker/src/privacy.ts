type PrivacyNavigator = Navigator & { globalPrivacyControl?: boolean; msDoNotTrack?: string };

/** True when the browser asks not to be tracked, through Global Privacy Control or Do-Not-Track. */
export function doNotTrack(): boolean {
  const nav = navigator as PrivacyNavigator;
  const signals = [nav.doNotTrack, nav.msDoNotTrack, (window as { doNotTrack?: string }).doNotTrack];
  return nav.globalPrivacyControl === true || signals.some((value) => value === '1' || value === 'yes');
}
