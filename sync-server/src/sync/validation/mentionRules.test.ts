import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULTS, appendMessage, conversationParts, findMessage, softDeleteMessage } from '@parley/schema';
import { validateUpdate } from './UpdateValidator';
import type { Writer } from './Writer';

const alice: Writer = { userId: 'alice', admin: false };
const bob: Writer = { userId: 'bob', admin: false };
const admin: Writer = { userId: 'root', admin: true };

/** The server's copy of a room of alice and bob, and a way to judge a replica's change against it. */
function room() {
  const server = new Y.Doc();
  const owners = new Map<number, string>();
  server.transact(() => {
    const { meta, members } = conversationParts(server);
    meta.set('id', 'c1');
    members.set('alice', { role: 'owner', joinedAt: 1 });
    members.set('bob', { role: 'member', joinedAt: 1 });
  });
  const replica = () => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server));
    return doc;
  };
  const send = (doc: Y.Doc, writer: Writer): string => {
    const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(server));
    const verdict = validateUpdate(server, 'conversation:c1', update, writer, (id) => owners.get(id) ?? null);
    if ('reason' in verdict) return verdict.reason;
    for (const id of verdict.newClients) owners.set(id, writer.userId);
    Y.applyUpdate(server, update);
    return 'ok';
  };
  return { server, replica, send };
}

describe('mentions (issue 14)', () => {
  it('accepts members, refuses strangers, repeats, too many and malformed lists', () => {
    const { replica, send } = room();
    const ok = replica();
    appendMessage(ok, { id: 'm1', author: 'alice', text: '@bob', mentions: ['bob'] });
    expect(send(ok, alice)).toBe('ok');
    for (const mentions of [['carol'], ['bob', 'bob'], ['__proto__'], Array.from({ length: DEFAULTS.mentionsMaxPerMessage + 1 }, () => 'bob')]) {
      const doc = replica();
      appendMessage(doc, { id: 'm2', author: 'alice', text: 'x', mentions });
      expect(send(doc, alice), JSON.stringify(mentions).slice(0, 40)).toBe('invalid-mention');
    }
    const notAList = replica();
    notAList.transact(() => {
      appendMessage(notAList, { id: 'm3', author: 'alice', text: 'x' });
      findMessage(notAList, 'm3')!.map.set('mentions', 'bob');
    });
    expect(send(notAList, alice)).toBe('invalid-mention');
  });

  it('lets the author change them by an edit, nobody else; an admin empties them with the soft deletion', () => {
    const { replica, send } = room();
    const a = replica();
    appendMessage(a, { id: 'm1', author: 'alice', text: '@bob', mentions: ['bob'] });
    expect(send(a, alice)).toBe('ok');
    const byBob = replica();
    findMessage(byBob, 'm1')!.map.set('mentions', ['alice']);
    expect(send(byBob, bob)).toBe('not-author');
    const edit = replica();
    findMessage(edit, 'm1')!.map.set('mentions', ['bob', 'alice']);
    expect(send(edit, alice)).toBe('ok');
    const forged = replica();
    findMessage(forged, 'm1')!.map.set('mentions', ['bob']);
    expect(send(forged, admin)).toBe('not-author');
    const moderated = replica();
    expect(softDeleteMessage(moderated, 'm1')).toBe(true);
    expect(findMessage(moderated, 'm1')!.map.get('mentions')).toEqual([]);
    expect(send(moderated, admin)).toBe('ok');
  });
});
