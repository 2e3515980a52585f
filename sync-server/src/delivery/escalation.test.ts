import { describe, expect, it } from 'vitest';
import type { Notification, Prefs } from '@parley/schema';
import { stepVerdict, type StepState } from './escalation';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const note = (fields: Partial<Notification> = {}): Notification => ({
  id: 'n1',
  kind: 'new_message',
  title: 't',
  body: 'b',
  createdAt: NOW - 10_000,
  updatedAt: NOW - 10_000,
  count: 1,
  data: { conversationId: 'c1' },
  readAt: null,
  seenAt: null,
  archivedAt: null,
  ...fields,
});
const prefs = (fields: Partial<Prefs> = {}): Prefs => ({ channels: {}, muted: {}, ...fields });
const state = (fields: Partial<StepState> = {}): StepState => ({ notification: note(), prefs: prefs(), online: false, now: NOW, ...fields });
const version = NOW - 10_000;

describe('stepVerdict (CONTRACT 7)', () => {
  it('goes for the current unread version of an offline user, with the default channels (sms off)', () => {
    expect(stepVerdict('push', version, state())).toEqual({ go: true });
    expect(stepVerdict('email', version, state())).toEqual({ go: true });
    expect(stepVerdict('sms', version, state())).toEqual({ go: false, skip: 'channel off' });
  });

  it('skips a newer version, a read or archived one, a removed one', () => {
    expect(stepVerdict('push', version - 1, state())).toEqual({ go: false, skip: 'superseded' });
    expect(stepVerdict('push', version, state({ notification: note({ readAt: NOW }) }))).toEqual({ go: false, skip: 'read' });
    expect(stepVerdict('push', version, state({ notification: note({ archivedAt: NOW }) }))).toEqual({ go: false, skip: 'read' });
    expect(stepVerdict('push', version, state({ notification: null }))).toEqual({ go: false, skip: 'removed' });
  });

  it('pushes only to offline users; email and SMS do not ask', () => {
    expect(stepVerdict('push', version, state({ online: true }))).toEqual({ go: false, skip: 'online' });
    expect(stepVerdict('email', version, state({ online: true }))).toEqual({ go: true });
  });

  it('a muted conversation sends nothing, except a mention', () => {
    const muted = prefs({ muted: { c1: NOW + 60_000 } });
    expect(stepVerdict('push', version, state({ prefs: muted }))).toEqual({ go: false, skip: 'muted' });
    expect(stepVerdict('push', version, state({ prefs: muted, notification: note({ kind: 'mention' }) }))).toEqual({ go: true });
    expect(stepVerdict('push', version, state({ prefs: prefs({ muted: { c1: NOW - 1 } }) }))).toEqual({ go: true });
  });

  it('follows the kind channels, and quiet hours hold push and SMS, not the email step', () => {
    const channels = prefs({ channels: { new_message: { inApp: true, push: false, email: true, sms: true } } });
    expect(stepVerdict('push', version, state({ prefs: channels }))).toEqual({ go: false, skip: 'channel off' });
    const quiet = prefs({ channels: channels.channels, quietHours: { start: '11:00', end: '13:00', tz: 'UTC' } });
    expect(stepVerdict('sms', version, state({ prefs: quiet }))).toEqual({ go: false, waitUntil: Date.parse('2026-03-01T13:00:00Z') });
    expect(stepVerdict('email', version, state({ prefs: quiet }))).toEqual({ go: true });
  });
});
