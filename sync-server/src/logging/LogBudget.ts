/**
 * At most `perWindow` log lines per `windowMs` for one kind of event that a
 * client can cause at will (a refused update, a library complaint about a bad
 * frame): past it lines are counted, not written, and the next line written
 * says how many were left out. So an attacker cannot set the log volume.
 */
export class LogBudget {
  private windowStart = 0;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Whether a line may be written now, and how many were left out before it. */
  take(now = Date.now()): { allowed: boolean; suppressed: number } {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.suppressed++;
      return { allowed: false, suppressed: 0 };
    }
    this.used++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { allowed: true, suppressed };
  }
}
