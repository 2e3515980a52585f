import { describe, expect, it } from 'vitest';
import { SqliteStorage } from '../SqliteStorage';
import type { DeliveryKey } from '../Storage';

const key = (target = 'dev-1', version = 1): DeliveryKey => ({ userId: 'u', notificationId: 'n', version, channel: 'push', target });

describe('SqliteDeliveryStore: once per version, channel and device', () => {
  it('goes once; a sent record is done; a known failure goes again; one left sending becomes uncertain, never again', async () => {
    const storage = new SqliteStorage(':memory:');
    const d = storage.deliveries;
    expect(await d.begin([key()], 1, 10)).toEqual(['go']);
    await d.finish([key()], 'sent', null, 11);
    expect(await d.begin([key()], 2, 12)).toEqual(['done']);
    expect(await d.begin([key('dev-2')], 1, 10)).toEqual(['go']);
    await d.finish([key('dev-2')], 'failed', '503', 11);
    expect(await d.begin([key('dev-2')], 2, 12)).toEqual(['go']);
    // Killed during the send: still `sending` when the next attempt looks.
    expect(await d.begin([key('dev-3')], 1, 10)).toEqual(['go']);
    expect(await d.begin([key('dev-3')], 2, 20)).toEqual(['uncertain']);
    expect(await d.begin([key('dev-3')], 3, 30)).toEqual(['done']);
    // A channel that resends an interrupted send (push) goes again, once per later attempt.
    expect(await d.begin([key('dev-4')], 1, 10)).toEqual(['go']);
    expect(await d.begin([key('dev-4')], 1, 11, 'resend')).toEqual(['done']);
    expect(await d.begin([key('dev-4')], 2, 20, 'resend')).toEqual(['go']);
    await d.finish([key('dev-4')], 'sent', null, 21);
    expect(await d.begin([key('dev-4')], 3, 30, 'resend')).toEqual(['done']);
    // A newer version is a new delivery.
    expect(await d.begin([key('dev-1', 2)], 1, 40)).toEqual(['go']);
    await storage.close();
  });

  it('answers which versions were emailed, and keeps the last digest time', async () => {
    const storage = new SqliteStorage(':memory:');
    const d = storage.deliveries;
    await d.begin([{ userId: 'u', notificationId: 'a', version: 5, channel: 'email', target: '-' }], 1, 1);
    const emailed = await d.emailed('u', [{ notificationId: 'a', version: 5 }, { notificationId: 'a', version: 6 }, { notificationId: 'b', version: 5 }]);
    expect([...emailed]).toEqual(['a\n5']);
    expect(await d.lastDigestAt('u')).toBeNull();
    await d.recordDigest('u', 99);
    expect(await d.lastDigestAt('u')).toBe(99);
    await storage.close();
  });
});

describe('SqliteDeliveryStore: the digest sweep', () => {
  it('finds due users on the due-time index, never by scanning the table', async () => {
    const storage = new SqliteStorage(':memory:');
    for (let i = 0; i < 2000; i++) await storage.deliveries.markDigestDue(`u${i}`, i < 5 ? 10 : 1_000_000 + i, 1);
    storage.db.exec('ANALYZE');
    const plan = storage.db
      .prepare('EXPLAIN QUERY PLAN UPDATE email_digest_due SET due_at = ? WHERE user_id IN (SELECT user_id FROM email_digest_due WHERE due_at <= ? ORDER BY due_at LIMIT ?) RETURNING user_id')
      .all(100, 50, 500) as Array<{ detail: string }>;
    const details = plan.map((p) => p.detail).join('\n');
    expect(details).toMatch(/USING (COVERING )?INDEX email_digest_due_by_time/);
    expect(details).not.toMatch(/SCAN email_digest_due(?! USING)/);
    expect((await storage.deliveries.takeDueDigests(50, 100, 500)).length).toBe(5);
    await storage.close();
  });
});
