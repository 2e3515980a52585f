import { AttachmentAnswer, type Attachment } from '@parley/schema';
import { ApiError } from './ApiClient';
import type { TokenSource } from './TokenSource';

/** The network failed (offline, server gone): the upload is worth retrying later, unlike a refusal. */
export class UploadNetworkError extends Error {}

/**
 * `POST /api/conversations/:id/attachments` with upload progress (fetch
 * reports none, so XMLHttpRequest). Resolves with the server's answer, which
 * a message then carries as it is; rejects with ApiError for a refusal and
 * UploadNetworkError when the network failed.
 */
export async function uploadAttachment(
  apiBase: string,
  tokens: TokenSource,
  conversationId: string,
  file: Blob,
  name: string,
  onProgress: (fraction: number) => void = () => {},
): Promise<Attachment> {
  const attempt = (token: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${apiBase}/api/conversations/${encodeURIComponent(conversationId)}/attachments`);
      xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = xhr.ontimeout = xhr.onabort = () => reject(new UploadNetworkError('the upload did not reach the server'));
      const form = new FormData();
      form.append('file', file, name);
      xhr.send(form);
    });
  let answer = await attempt(await tokens.get());
  if (answer.status === 401) answer = await attempt((await tokens.refresh()).token);
  const json: unknown = answer.text ? JSON.parse(answer.text) : null;
  if (answer.status !== 201) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    if (answer.status >= 500 || answer.status === 0) throw new UploadNetworkError(error?.message ?? `upload failed: ${answer.status}`);
    throw new ApiError(answer.status, error?.code ?? 'http_error', error?.message ?? `upload refused: ${answer.status}`);
  }
  onProgress(1);
  return AttachmentAnswer.parse(json);
}

/** An attachment's bytes, fetched with the bearer token (an `<img>` shows them through an object URL). */
export async function fetchAttachment(apiBase: string, tokens: TokenSource, url: string): Promise<Blob> {
  const get = async (token: string) => fetch(`${apiBase}${url}`, { headers: { authorization: `Bearer ${token}` } });
  let response = await get(await tokens.get());
  if (response.status === 401) response = await get((await tokens.refresh()).token);
  if (!response.ok) throw new ApiError(response.status, 'http_error', `attachment: ${response.status}`);
  return response.blob();
}
