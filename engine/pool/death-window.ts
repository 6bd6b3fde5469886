import { LIMITS } from '../limits.js';

/**
 * Thread deaths counted over LIMITS.shardDeathWindowMs: restarting in place is the answer to a
 * death, until LIMITS.shardDeathsMax of them fall within the window (a crash loop, which only a
 * service manager's restart of the whole process can break). Shards and edge threads share it.
 */
export class DeathWindow {
  private deathTimesMs: number[] = [];

  /** Counts a death now; true when the window is full and the owner should give up. */
  recordIsCrashLoop(nowMs = Date.now()): boolean {
    this.deathTimesMs = this.deathTimesMs.filter((t) => nowMs - t < LIMITS.shardDeathWindowMs);
    this.deathTimesMs.push(nowMs);
    return this.deathTimesMs.length >= LIMITS.shardDeathsMax;
  }
}
