import { useEffect, useState } from 'react';
import { thumbnailUrl, type Attachment } from '@parley/schema';
import { useSession } from '../react';
import { fetchAttachment } from '../sdk/uploadAttachment';

const isImage = (a: Attachment) => a.width !== undefined && a.height !== undefined;

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The bytes behind an attachment url as an object URL (fetched with the bearer token), released when unused. */
function useObjectUrl(url: string | null): string | null {
  const session = useSession();
  const [objectUrl, setObjectUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!url) return;
    let made: string | null = null;
    let cancelled = false;
    fetchAttachment(session.options.apiBase, session.tokens, url)
      .then((blob) => {
        if (cancelled) return;
        made = URL.createObjectURL(blob);
        setObjectUrl(made);
      })
      .catch(() => setObjectUrl(null));
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [session, url]);
  return objectUrl;
}

function ImagePreview({ attachment }: { attachment: Attachment }) {
  const src = useObjectUrl(thumbnailUrl(attachment.url));
  const [width, height] = [attachment.width ?? 1, attachment.height ?? 1];
  const scale = Math.min(1, 320 / Math.max(width, height));
  return (
    <figure className="attachment-image" data-testid="attachment-image">
      {src ? <img src={src} alt={attachment.name} width={Math.round(width * scale)} height={Math.round(height * scale)} /> : <div className="attachment-placeholder" style={{ aspectRatio: `${width} / ${height}` }} />}
      <figcaption>{attachment.name}</figcaption>
    </figure>
  );
}

function FileCard({ attachment }: { attachment: Attachment }) {
  const session = useSession();
  const download = async () => {
    const blob = await fetchAttachment(session.options.apiBase, session.tokens, attachment.url);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = attachment.name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  };
  return (
    <div className="attachment-file" data-testid="attachment-file">
      <span className="attachment-icon" aria-hidden="true">
        📄
      </span>
      <span className="attachment-name">{attachment.name}</span>
      <span className="attachment-size">{formatSize(attachment.size)}</span>
      <button type="button" onClick={() => void download()} aria-label={`Download ${attachment.name}`}>
        Download
      </button>
    </div>
  );
}

/** A message's attachments: image previews (the server's thumbnail) and file cards. */
export function AttachmentList({ attachments }: { attachments: readonly Attachment[] }) {
  if (attachments.length === 0) return null;
  return (
    <div className="attachments">
      {attachments.map((a) => (isImage(a) ? <ImagePreview key={a.url} attachment={a} /> : <FileCard key={a.url} attachment={a} />))}
    </div>
  );
}
