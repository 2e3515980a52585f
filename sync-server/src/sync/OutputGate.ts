/**
 * What the gate needs to know about storage. Writes commit in numbered
 * batches (see GroupCommit); `pending` names the batch that writes queued
 * now join, with a promise that settles (never rejects) once that batch has
 * committed or failed, or null when nothing is waiting to commit.
 */
export interface CommitBarrier {
  pending(): { batch: number; settled: Promise<void> } | null;
}

interface Held {
  frame: Uint8Array;
  /** The batch that was pending when the frame was produced; 0 for none. */
  batch: number;
  settled: Promise<void> | null;
}

/**
 * Holds a socket's outgoing frames until every write queued before them is
 * durable. A frame produced while a commit is pending (a broadcast of an
 * update, the acknowledgement of it, a sync answer that includes it) leaves
 * only after that commit, and frames leave in the order they were produced.
 * So no client receives, or is told the server holds, anything that a crash
 * or a failed commit could take back: "acknowledged means durable" and "seen
 * by others means durable" are both this one rule.
 *
 * A frame whose commit failed is dropped when `dropped` says so (its
 * document failed to store; see WritePipeline), so a peer never holds what
 * the server lost.
 */
export class OutputGate {
  private held: Held[] = [];
  private waitingFor = 0;

  constructor(
    private readonly barrier: CommitBarrier,
    private readonly write: (frame: Uint8Array) => void,
    private readonly dropped: (frame: Uint8Array) => boolean = () => false,
  ) {}

  send(frame: Uint8Array): void {
    const pending = this.barrier.pending();
    if (this.held.length === 0 && pending === null) return this.write(frame);
    this.held.push({ frame, batch: pending?.batch ?? 0, settled: pending?.settled ?? null });
    this.waitForHead();
  }

  /** Frames waiting for a commit. */
  get backlog(): number {
    return this.held.length;
  }

  /** Sends every frame whose batch has settled, in order, then waits for the next one's. */
  private waitForHead(): void {
    const head = this.held[0];
    if (!head || this.waitingFor === head.batch) return;
    if (head.settled === null) return this.releaseUpTo(head.batch);
    this.waitingFor = head.batch;
    void head.settled.then(() => {
      this.waitingFor = 0;
      this.releaseUpTo(head.batch);
    });
  }

  private releaseUpTo(batch: number): void {
    let i = 0;
    while (i < this.held.length && this.held[i]!.batch <= batch) i++;
    const ready = this.held.splice(0, i);
    for (const { frame } of ready) if (!this.dropped(frame)) this.write(frame);
    this.waitForHead();
  }
}
