import { useCallback, useEffect, useState } from 'react';
import type { AdminReport } from '@parley/schema';
import { useSession } from '../react';
import { friendlyError } from './friendlyError';
import { formatTime } from './formatTime';

/**
 * Open reports, for admins (issue 14): each with its conversation, the
 * message as it is now, the reporter and the reason; the admin opens the
 * conversation, deletes the message (a soft deletion as admin) and closes the
 * report, which tells the reporter. Anyone else is told the page is for
 * moderators (the server answers 403).
 */
export function AdminReports() {
  const session = useSession();
  const [reports, setReports] = useState<AdminReport[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const load = useCallback(() => {
    session.api.adminReports().then(
      ({ reports: list }) => {
        setReports(list);
        setError(null);
      },
      (e: unknown) => setError(friendlyError(e)),
    );
  }, [session]);
  useEffect(load, [load]);

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setStatus(done);
      load();
    } catch (e) {
      setError(friendlyError(e));
    }
  };

  return (
    <section className="admin-reports" aria-labelledby="reports-title">
      <h2 id="reports-title">Open reports</h2>
      {error && <p role="alert">{error}</p>}
      <p role="status" className="hint">
        {status}
      </p>
      {reports?.length === 0 && <p className="hint">No open reports.</p>}
      <ul className="report-list" data-testid="report-list">
        {reports?.map((r) => {
          const time = formatTime(r.createdAt, 'time');
          const gone = !r.message || r.message.deletedAt !== undefined;
          return (
            <li key={r.id} data-testid="report" data-id={r.id}>
              <p>
                <strong>{r.reporter}</strong> reported a message by <strong>{r.message?.author ?? 'unknown'}</strong> in{' '}
                <a href={`#/c/${r.conversationId}`}>{r.conversation?.title || r.conversationId}</a>
                {time && <> at <time dateTime={time.iso}>{time.label}</time></>}
              </p>
              <blockquote dir="auto">{gone ? <em>Message deleted</em> : r.message!.text}</blockquote>
              <p>Reason: {r.reason}</p>
              <div className="row">
                {!gone && (
                  <button type="button" className="danger" onClick={() => void act(() => session.api.deleteMessage(r.conversationId, r.messageId), 'The message was deleted.')}>
                    Delete message
                  </button>
                )}
                <button type="button" onClick={() => void act(() => session.api.closeReport(r.id), 'The report was closed; the reporter was told.')}>
                  Close report
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
