import { describe, expect, it } from 'vitest';
import { versionKey, type DeliveryKey, type Storage } from './Storage';

/** Delivery records and contact details (issue 10): what every Storage must do with them. */
export function deliverySuite(name: string, create: () => Promise<Storage>): void {
  describe(`${name}: delivery records`, () => {
    it('starts each version and channel once, marks a send cut off as uncertain, retries a known failure', async () => {
      const storage = await create();
      const key = (notificationId: string, channel: DeliveryKey['channel'], version = 1): DeliveryKey => ({ userId: 'ann', notificationId, version, channel, target: '-' });
      expect(await storage.deliveries.begin([key('n1', 'email'), key('n2', 'sms')], 1, 10)).toEqual(['go', 'go']);
      await storage.deliveries.finish([key('n1', 'email')], 'sent', null, 11);
      await storage.deliveries.finish([key('n2', 'sms')], 'failed', 'peer said 503', 11);
      // n1 is done, n2 failed (go again), n3 is new; a second begin of n3 finds it still sending.
      expect(await storage.deliveries.begin([key('n1', 'email'), key('n2', 'sms'), key('n3', 'email')], 2, 12)).toEqual(['done', 'go', 'go']);
      expect(await storage.deliveries.begin([key('n3', 'email')], 3, 13)).toEqual(['uncertain']);
      expect(await storage.deliveries.begin([key('n3', 'email')], 4, 14)).toEqual(['done']);
      // Push resends what an earlier attempt left sending (not what this attempt itself holds).
      expect(await storage.deliveries.begin([key('n4', 'push')], 1, 15)).toEqual(['go']);
      expect(await storage.deliveries.begin([key('n4', 'push')], 1, 15, 'resend')).toEqual(['done']);
      expect(await storage.deliveries.begin([key('n4', 'push')], 2, 16, 'resend')).toEqual(['go']);
      await storage.deliveries.finish([key('n4', 'push')], 'sent', null, 17);
      const emailed = await storage.deliveries.emailed('ann', [{ notificationId: 'n1', version: 1 }, { notificationId: 'n1', version: 2 }, { notificationId: 'n2', version: 1 }, { notificationId: 'n3', version: 1 }]);
      expect([...emailed].sort()).toEqual([versionKey('n1', 1), versionKey('n3', 1)]);
      expect(await storage.deliveries.lastDigestAt('ann')).toBeNull();
      await storage.deliveries.recordDigest('ann', 20);
      await storage.deliveries.recordDigest('ann', 30);
      expect(await storage.deliveries.lastDigestAt('ann')).toBe(30);
      // n2 is sending again (attempt 2): kept by a prune; the others are pruned.
      expect(await storage.deliveries.prune(100)).toBe(3);
      await storage.close();
    });

    it('keeps the users whose digest is due, and hands them out by due time in bounded batches, each once until it is held no more', async () => {
      const storage = await create();
      const d = storage.deliveries;
      await d.markDigestDue('ann', 100, 1);
      await d.markDigestDue('bob', 50, 1);
      await d.markDigestDue('cid', 500, 1);
      // A later mark keeps the earlier due time.
      await d.markDigestDue('ann', 300, 2);
      expect(await d.takeDueDigests(99, 1000, 10)).toEqual(['bob']);
      // Taken users are held until 1000: not handed out again before.
      expect(await d.takeDueDigests(200, 1000, 1)).toEqual(['ann']);
      expect(await d.takeDueDigests(600, 1000, 10)).toEqual(['cid']);
      expect(await d.takeDueDigests(999, 2000, 10)).toEqual([]);
      // A digest that started before the last mark does not clear it; one that started after does.
      await d.clearDigest('ann', 2);
      await d.deferDigest('bob', 1500);
      await d.clearDigest('cid', 3);
      expect((await d.takeDueDigests(1500, 3000, 10)).sort()).toEqual(['ann', 'bob']);
      await d.clearDigest('ann', 3);
      await d.clearDigest('bob', 3);
      expect(await d.takeDueDigests(10_000, 20_000, 10)).toEqual([]);
      await storage.close();
    });

    it('keeps contact details set by the API over the token claims, and clears them with null', async () => {
      const storage = await create();
      expect(await storage.users.contact('ann')).toEqual({ email: null, phone: null });
      await storage.users.rememberClaims('ann', { email: 'claim@example.com', phone: '+15550001' });
      expect(await storage.users.contact('ann')).toEqual({ email: 'claim@example.com', phone: '+15550001' });
      await storage.users.setContact('ann', { email: 'set@example.com' });
      expect(await storage.users.contact('ann')).toEqual({ email: 'set@example.com', phone: '+15550001' });
      await storage.users.setContact('ann', { email: null });
      expect(await storage.users.contact('ann')).toEqual({ email: 'claim@example.com', phone: '+15550001' });
      await storage.close();
    });
  });
}
