import { useEffect, useState } from 'react';
import { useSession } from '../react';
import { disablePush, enablePush, pushStatus, type PushStatus } from './pushDevice';

const STATUS_TEXT: Record<PushStatus, string> = {
  unsupported: 'This browser cannot show push notifications.',
  blocked: 'Notifications are blocked for this site: allow them in the browser’s site settings.',
  off: 'Push notifications are off on this device.',
  on: 'Push notifications are on for this device.',
};

/** "Enable notifications": the browser's permission flow and this device's push subscription. */
export function PushSettings() {
  const session = useSession();
  const [status, setStatus] = useState<PushStatus | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    void pushStatus().then((s) => live && setStatus(s));
    return () => {
      live = false;
    };
  }, []);

  const run = async (action: () => Promise<string | null>) => {
    setBusy(true);
    try {
      setMessage(await action());
      setStatus(await pushStatus());
    } finally {
      setBusy(false);
    }
  };
  const enable = () =>
    run(async () => {
      const result = await enablePush(session.api);
      return result.on ? null : result.message;
    });
  const disable = () =>
    run(async () => {
      await disablePush(session.api);
      return null;
    });

  return (
    <section className="push-settings" aria-labelledby="push-title">
      <h3 id="push-title">Push on this device</h3>
      <p role="status" data-testid="push-status" data-state={status ?? 'loading'}>
        {message ?? (status ? STATUS_TEXT[status] : 'Checking this device…')}
      </p>
      {status === 'on' ? (
        <button type="button" onClick={() => void disable()} disabled={busy}>
          Turn off on this device
        </button>
      ) : (
        <button type="button" onClick={() => void enable()} disabled={busy || status === 'unsupported' || status === null}>
          Enable notifications
        </button>
      )}
    </section>
  );
}
