/**
 * The announcements of changes outside the window stay bounded (issue 9): at
 * most `outsideChangesMax` entries, and a document whose map took more than
 * `outsideChangesRenewAfter` writes is due for renewal, which sheds their
 * tombstones (the fresh window copies only the live entries).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULTS, announceOutsideChange, conversationParts, outsideWrites, readOutsideChanges } from '@parley/schema';
import { freshWindow } from './freshWindow';
import { outgrown } from './outgrown';

describe('outside-window announcements', () => {
  it('keep the newest entries, count their writes, and are renewed away', () => {
    const doc = new Y.Doc();
    conversationParts(doc).meta.set('id', 'c');
    const threshold = 1_000;
    for (let i = 0; i < DEFAULTS.outsideChangesRenewAfter; i++) announceOutsideChange(doc, `m${i % 150}`, 1_000_000 + i);
    const entries = readOutsideChanges(doc);
    expect(Object.keys(entries)).toHaveLength(DEFAULTS.outsideChangesMax);
    const last = DEFAULTS.outsideChangesRenewAfter - 1;
    expect(entries[`m${last % 150}`]).toBe(1_000_000 + last);
    expect(outgrown(doc, threshold)).toBe(false);
    announceOutsideChange(doc, 'm1', 2_000_000);
    expect(outsideWrites(doc)).toBeGreaterThan(DEFAULTS.outsideChangesRenewAfter);
    expect(outgrown(doc, threshold)).toBe(true);

    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, freshWindow(doc, 10).update);
    expect(readOutsideChanges(fresh)).toEqual(readOutsideChanges(doc));
    expect(outsideWrites(fresh)).toBe(DEFAULTS.outsideChangesMax);
    expect(outgrown(fresh, threshold)).toBe(false);
    expect(Y.encodeStateAsUpdate(fresh).byteLength).toBeLessThan(Y.encodeStateAsUpdate(doc).byteLength / 2);
  });

  it('gives a message changed twice in one millisecond a newer value', () => {
    const doc = new Y.Doc();
    announceOutsideChange(doc, 'm1', 5);
    announceOutsideChange(doc, 'm1', 5);
    expect(readOutsideChanges(doc)).toEqual({ m1: 6 });
  });
});
