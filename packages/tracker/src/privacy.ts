type PrivacyNavigator = Navigator & { globalPrivacyControl?: boolean };

/**
 * True when the browser asks not to be tracked, through Global Privacy Control or Do-Not-Track. Only
 * browsers that cannot run this script (Internet Explorer, the first Edge, Firefox before 32) put the
 * signal elsewhere (navigator.msDoNotTrack, window.doNotTrack) or spell it "yes".
 */
export const doNotTrack = (): boolean =>
  (navigator as PrivacyNavigator).globalPrivacyControl === true || navigator.doNotTrack === '1';
