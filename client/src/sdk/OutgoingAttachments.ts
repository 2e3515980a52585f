import { Emitter } from './Emitter';
import { HeldUploads, type HeldMessage } from './HeldUploads';
import { UploadNetworkError, uploadAttachment } from './uploadAttachment';
import { newId } from './ids';
import type { Session } from './Session';

export interface HeldProgress {
  id: string;
  conversationId: string;
  names: string[];
  /** 0..1 over all files of the message. */
  progress: number;
  state: 'uploading' | 'waiting-for-network' | 'failed';
  error?: string;
}

/** How often a held message is tried again while the browser believes it is online. */
const RETRY_MS = 5_000;

/**
 * Messages with attachments: held durably (HeldUploads) until their files
 * are uploaded, then sent with the upload answers as their `attachments`.
 * Runs on start, when the browser comes online and every few seconds while
 * something is held; one message at a time, in the order written. A message
 * whose files the server refuses stays listed as failed until discarded.
 */
export class OutgoingAttachments extends Emitter<{ change: HeldProgress[] }> {
  private readonly store: HeldUploads;
  private readonly progress = new Map<string, HeldProgress>();
  private running: Promise<void> | null = null;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly onOnline = () => void this.kick();

  constructor(private readonly session: Session) {
    super();
    this.store = new HeldUploads(`parley:${session.identity.userId}:uploads`);
    addEventListener('online', this.onOnline);
    this.timer = setInterval(() => this.progress.size > 0 && void this.kick(), RETRY_MS);
    void this.kick();
  }

  /** Holds a message with its files (durably) and starts uploading. Resolves once it is held. */
  async hold(conversationId: string, text: string, files: File[]): Promise<string> {
    const message: HeldMessage = { id: newId(), conversationId, text, createdAt: Date.now(), files: files.map((f) => ({ name: f.name, blob: f, uploaded: null })) };
    await this.store.put(message);
    this.track(message, 0, 'uploading');
    void this.kick();
    return message.id;
  }

  async discard(id: string): Promise<void> {
    await this.store.drop(id);
    this.progress.delete(id);
    this.changed();
  }

  held(conversationId?: string): HeldProgress[] {
    return [...this.progress.values()].filter((p) => !conversationId || p.conversationId === conversationId);
  }

  destroy(): void {
    removeEventListener('online', this.onOnline);
    clearInterval(this.timer);
  }

  kick(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  private async drain(): Promise<void> {
    for (const message of await this.store.all()) {
      if (this.progress.get(message.id)?.state === 'failed') continue;
      try {
        await this.deliver(message);
      } catch (error) {
        if (error instanceof UploadNetworkError) {
          this.track(message, this.progress.get(message.id)?.progress ?? 0, 'waiting-for-network');
          return; // The rest waits too, in order.
        }
        this.track(message, 0, 'failed', error instanceof Error ? error.message : String(error));
      }
    }
  }

  private async deliver(message: HeldMessage): Promise<void> {
    const total = message.files.reduce((sum, f) => sum + f.blob.size, 0) || 1;
    let done = message.files.filter((f) => f.uploaded).reduce((sum, f) => sum + f.blob.size, 0);
    for (const file of message.files) {
      if (file.uploaded) continue;
      this.track(message, done / total, 'uploading');
      file.uploaded = await uploadAttachment(this.session.options.apiBase, this.session.tokens, message.conversationId, file.blob, file.name, (fraction) =>
        this.track(message, (done + fraction * file.blob.size) / total, 'uploading'),
      );
      done += file.blob.size;
      await this.store.put(message); // An uploaded file is not uploaded again after a reload.
    }
    const chat = this.session.conversation(message.conversationId);
    const attachments = message.files.map((f) => f.uploaded!);
    // Sent under the id chosen when held: a resend after a crash between send and drop is recognised.
    if (!chat.snapshot().messages.some((m) => m.id === message.id)) chat.send(message.text, { attachments, id: message.id });
    await this.store.drop(message.id);
    this.progress.delete(message.id);
    this.changed();
  }

  private track(message: HeldMessage, progress: number, state: HeldProgress['state'], error?: string): void {
    this.progress.set(message.id, { id: message.id, conversationId: message.conversationId, names: message.files.map((f) => f.name), progress, state, ...(error && { error }) });
    this.changed();
  }

  private changed(): void {
    this.emit('change', this.held());
  }
}
