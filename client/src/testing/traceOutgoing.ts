import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import type { Session } from '../sdk/Session';

/**
 * Diagnosis aid for the fuzz (PARLEY_FUZZ_TRACE=1): keeps the last outgoing
 * frames of every provider of a session and renders them, updates decoded to
 * their structs. Sync replies (the step 2 a provider answers with) show as
 * empty frames: the provider reports them before writing them.
 */
export function recordOutgoing(session: Session, keep = 8): () => string {
  const frames: { at: number; doc: string; bytes: Uint8Array }[] = [];
  const seen = new WeakSet<object>();
  const attach = () => {
    for (const replica of (session as unknown as { replicas: Map<string, { provider: { on(e: string, f: (x: { message: { toUint8Array(): Uint8Array } }) => void): void } | null }> }).replicas.values()) {
      const p = replica.provider;
      if (!p || seen.has(p)) continue;
      seen.add(p);
      p.on('outgoingMessage', ({ message }) => {
        frames.push({ at: Date.now(), doc: '', bytes: message.toUint8Array() });
        if (frames.length > keep) frames.shift();
      });
    }
  };
  const timer = setInterval(attach, 5);
  return () => {
    clearInterval(timer);
    return frames
      .map((f) => {
        try {
        const d = decoding.createDecoder(f.bytes);
        const name = decoding.readVarString(d);
        const type = decoding.readVarUint(d);
        if (type !== 0) return `${f.at} ${name} type ${type}`;
        const syncType = decoding.readVarUint(d);
        if (syncType === 0) return `${f.at} ${name} step1`;
        const update = decoding.readVarUint8Array(d);
        const decoded = Y.decodeUpdate(update);
        const structs = decoded.structs.map((s) => {
          if (s instanceof Y.Item) {
            const parent = s.parent === null ? 'null' : typeof s.parent === 'string' ? s.parent : s.parent instanceof Y.AbstractType ? 'type' : JSON.stringify(s.parent);
            return `${s.id.client}:${s.id.clock}+${s.length} parent=${parent} sub=${s.parentSub} origin=${s.origin ? `${s.origin.client}:${s.origin.clock}` : '-'} ${s.content.constructor.name}`;
          }
          return `${s.constructor.name} ${s.id.client}:${s.id.clock}+${s.length}`;
        });
        return `${f.at} ${name} ${syncType === 1 ? 'step2' : 'update'} ${structs.length} structs:\n    ${structs.slice(0, 30).join('\n    ')}`;
        } catch (e) {
          return f.bytes.length === 0 ? `${f.at} sync reply (step 2)` : `${f.at} undecodable ${f.bytes.length} bytes: ${e}`;
        }
      })
      .join('\n');
  };
}
