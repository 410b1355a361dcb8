/**
 * Whether a process still runs: signal 0 checks that it exists without touching it. The tests that
 * stop the local mesh use it to show that no worker process outlived the stop.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
