/**
 * Milliseconds on a clock that never jumps: ages and intervals measured by the wall clock (Date.now)
 * went negative when NTP stepped it back, and a segment was not sealed by age, nor a refusing disk
 * probed again, for as long as the step.
 */
export const monotonicMs = () => performance.now();
