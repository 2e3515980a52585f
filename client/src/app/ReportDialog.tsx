import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { DEFAULTS } from '@parley/schema';

/**
 * Asks why a message is reported (a modal dialog: focus starts in the reason,
 * Escape or Cancel closes it, focus goes back to where it was). The reason is
 * required and bounded like the server's (`DEFAULTS.reportReasonMaxLength`).
 */
export function ReportDialog({ author, onSubmit, onClose }: { author: string; onSubmit: (reason: string) => Promise<string | null>; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  const field = useRef<HTMLTextAreaElement>(null);
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    field.current?.focus();
    const back = opener.current;
    // On the document: a button disabled while sending drops the focus out of the form.
    const onEscape = (event: globalThis.KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      onClose();
    };
    document.addEventListener('keydown', onEscape);
    return () => {
      document.removeEventListener('keydown', onEscape);
      if (back instanceof HTMLElement && back.isConnected) back.focus();
    };
  }, [onClose]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) return setError('Say why you report this message.');
    setBusy(true);
    const failure = await onSubmit(reason.trim());
    setBusy(false);
    if (failure) setError(failure);
    else onClose();
  };

  return (
    <div className="dialog-backdrop">
      <form role="dialog" aria-modal="true" aria-labelledby={titleId} className="dialog" onSubmit={(e) => void submit(e)} data-testid="report-dialog">
        <h3 id={titleId}>Report {author}'s message</h3>
        <label htmlFor={`${titleId}-reason`}>Why? A moderator will read this.</label>
        <textarea id={`${titleId}-reason`} ref={field} value={reason} maxLength={DEFAULTS.reportReasonMaxLength} rows={3} onChange={(e) => setReason(e.target.value)} />
        {error && <p role="alert">{error}</p>}
        <div className="row">
          <button type="submit" className="danger" disabled={busy}>
            Send report
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
