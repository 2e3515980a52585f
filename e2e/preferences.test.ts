/**
 * The `prefs` of contract v2 (sections 3 and 7): the `sms` channel and
 * `quietHours` ({start, end, tz}) through `PUT /api/notifications/preferences`
 * and written by the owner into the inbox document, each checked at the edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateRejection, inboxDocName, setChannels, setQuietHours, type QuietHours } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { RawClient } from './fixtures/rawClient';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

const put = async (token: string, body: unknown) => server.api('/api/notifications/preferences', { token, method: 'PUT', body });

describe('preferences of contract v2', () => {
  it('keeps the sms channel and quiet hours through the API, removes quiet hours with null and refuses bad ones', async () => {
    const token = await server.token('quinn');
    const quiet = { start: '22:30', end: '07:00', tz: 'Europe/Berlin' };
    const saved = await put(token, { channels: { payment_failed: { inApp: true, push: true, email: true, sms: true } }, quietHours: quiet });
    expect(saved.status).toBe(200);
    expect(saved.body.channels.payment_failed).toEqual({ inApp: true, push: true, email: true, sms: true });
    expect(saved.body.quietHours).toEqual(quiet);
    expect((await server.api('/api/notifications/preferences', { token })).body.quietHours).toEqual(quiet);

    for (const bad of [
      { start: '24:00', end: '07:00', tz: 'UTC' },
      { start: '22:00', end: '7:00', tz: 'UTC' },
      { start: '22:00', end: '07:00', tz: 'Mars/Olympus_Mons' },
      { start: '22:00', end: '07:00' },
      { start: '22:00', end: '07:00', tz: 'UTC', extra: 1 },
    ]) {
      const refused = await put(token, { quietHours: bad });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.error.code).toBeTypeOf('string');
    }
    // Nothing half-written by the refusals.
    expect((await server.api('/api/notifications/preferences', { token })).body.quietHours).toEqual(quiet);
    expect((await put(token, { channels: { x: { inApp: true, push: true, email: true, sms: 'yes' } } })).status).toBe(400);

    expect((await put(token, { quietHours: null })).body.quietHours).toBeUndefined();
    expect((await server.api('/api/notifications/preferences', { token })).body.quietHours).toBeUndefined();
  });

  it('lets the owner write quiet hours and the sms flag into the inbox document, and refuses malformed ones', async () => {
    const token = await server.token('quill');
    const raw = await RawClient.connect(server.wsUrl);
    try {
      const inbox = await raw.open(inboxDocName('quill'), token);
      const quiet: QuietHours = { start: '23:00', end: '06:30', tz: 'America/New_York' };
      expect(await inbox.send(inbox.change((d) => setQuietHours(d, quiet)))).toEqual({ applied: true });
      expect(await inbox.send(inbox.change((d) => void setChannels(d, 'new_message', { inApp: true, push: false, email: false, sms: true })))).toEqual({ applied: true });
      const prefs = (await server.api('/api/notifications/preferences', { token })).body;
      expect(prefs.quietHours).toEqual(quiet);
      expect(prefs.channels.new_message).toEqual({ inApp: true, push: false, email: false, sms: true });

      const bad = inbox.change((d) => setQuietHours(d, { start: '23:00', end: '06:30', tz: 'Nowhere/Atlantis' }));
      expect(await inbox.send(bad)).toEqual({ refused: UpdateRejection.invalidMessage });
      expect((await server.api('/api/notifications/preferences', { token })).body.quietHours).toEqual(quiet);

      // The refusal closed the document on this socket: open it again.
      const reopened = await raw.open(inboxDocName('quill'), token);
      expect(await reopened.send(reopened.change((d) => setQuietHours(d, null)))).toEqual({ applied: true });
      expect((await server.api('/api/notifications/preferences', { token })).body.quietHours).toBeUndefined();
    } finally {
      raw.close();
    }
  });
});
