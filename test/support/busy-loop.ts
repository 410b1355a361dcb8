/**
 * Keeps this process's event loop busy until `until` (epoch ms), as a handler's synchronous work or a
 * crowded machine can: timers and I/O that come due meanwhile wait for the same next turn.
 */
export function busyUntil(until: number): void {
  while (Date.now() < until) {
    // spin
  }
}
