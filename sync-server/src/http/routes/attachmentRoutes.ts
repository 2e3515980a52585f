import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import { z } from 'zod';
import { ATTACHMENT_ID_PATTERN, HttpErrorCode, Id, attachmentUrl, thumbnailUrl } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import { ApiError } from '../ApiError';
import { drainBody } from '../drainBody';
import { byteRange } from '../byteRange';
import type { Attachments, ServedFile } from '../../domain/attachments/Attachments';
import { servedAs } from '../../domain/attachments/sniffType';
import type { RouteDeps } from './RouteDeps';

const ConversationParams = z.strictObject({ id: Id });
const AttachmentParams = z.strictObject({ id: Id, attachmentId: z.string().regex(ATTACHMENT_ID_PATTERN) });
const LinkQuery = z.object({ u: z.string().max(200).optional(), exp: z.string().max(20).optional(), sig: z.string().max(100).optional() });
/** Room for the multipart envelope around the file (boundaries, part headers). */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Served files are not rendered as pages of our origin: no script, no plugin, a sandbox of their own. */
const ATTACHMENT_CSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/**
 * `POST /api/conversations/:id/attachments` (multipart, one file) and the
 * GET of what it answered: members only, the stored type, `Content-Disposition`,
 * `nosniff`, single byte ranges; `.../thumbnail` for images and `.../link` for
 * signed links (see SignedLinks).
 */
export function attachmentRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { attachments, verifier } = deps;
  const maxBytes = attachments.uploadMaxBytes;
  void app.register(async (scope) => {
    await scope.register(fastifyMultipart, { limits: { fileSize: maxBytes, files: 1, fields: 4, parts: 5, headerPairs: 100 }, throwFileSizeLimit: false });
    scope.addHook('onSend', async (request, reply, payload) => {
      if (request.method === 'GET' || request.method === 'HEAD') reply.header('content-security-policy', ATTACHMENT_CSP);
      return payload;
    });

    scope.post('/api/conversations/:id/attachments', async (request, reply) => {
      try {
        const caller = await authenticate(verifier, request);
        const { id } = validate(ConversationParams, request.params, 'params');
        await attachments.requireMember(caller.userId, id);
        if (!request.isMultipart()) throw new ApiError(400, HttpErrorCode.noFile, 'send the file as multipart/form-data, one file part');
        if (Number(request.headers['content-length']) > maxBytes + MULTIPART_OVERHEAD_BYTES) {
          throw new ApiError(413, HttpErrorCode.tooLarge, `a file is at most ${maxBytes} bytes`);
        }
        const part = await request.file();
        if (!part) throw new ApiError(400, HttpErrorCode.noFile, 'the body holds no file part');
        const attachment = await attachments.upload(caller, id, { name: part.filename, stream: part.file, truncated: () => part.file.truncated });
        return reply.status(201).send(attachment);
      } catch (error) {
        // A refusal before the body was read: read it (bounded) so the client gets the answer, not a reset.
        await drainBody(request.raw, 2 * maxBytes + MULTIPART_OVERHEAD_BYTES);
        throw error;
      }
    });

    const serve = (variant: 'original' | 'thumbnail') => async (request: FastifyRequest, reply: FastifyReply) => {
      const { id, attachmentId } = validate(AttachmentParams, request.params, 'params');
      const path = variant === 'thumbnail' ? thumbnailUrl(attachmentUrl(id, attachmentId)) : attachmentUrl(id, attachmentId);
      const userId = await viewer(request, path);
      const file = await attachments.open(userId, id, attachmentId, variant);
      return send(reply, request.headers.range, file, attachments);
    };
    const viewer = async (request: FastifyRequest, path: string): Promise<string> => {
      const query = validate(LinkQuery, request.query, 'query');
      if (query.sig === undefined) return (await authenticate(verifier, request)).userId;
      const userId = attachments.linkUser(path, query);
      if (!userId) throw ApiError.unauthorized('the link is not valid or has expired');
      return userId;
    };
    scope.get('/api/conversations/:id/attachments/:attachmentId', serve('original'));
    scope.get('/api/conversations/:id/attachments/:attachmentId/thumbnail', serve('thumbnail'));
    scope.get('/api/conversations/:id/attachments/:attachmentId/link', async (request) => {
      const caller = await authenticate(verifier, request);
      const { id, attachmentId } = validate(AttachmentParams, request.params, 'params');
      return attachments.links(caller, id, attachmentId);
    });
  });
}

function send(reply: FastifyReply, rangeHeader: string | undefined, file: ServedFile, attachments: Attachments) {
  const range = byteRange(rangeHeader, file.size);
  reply.header('accept-ranges', 'bytes').header('x-content-type-options', 'nosniff');
  if (range === 'unsatisfiable') {
    return reply
      .status(416)
      .header('content-range', `bytes */${file.size}`)
      .send({ error: { code: HttpErrorCode.badRequest, message: `the range is outside the file's ${file.size} bytes` } });
  }
  const { contentType, inline } = servedAs(file.type);
  reply
    .header('content-type', contentType)
    .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', file.name))
    .header('etag', `"${file.hash}"`)
    // Private: a member's file must not sit in a shared cache; kept briefly, as a deletion removes it.
    .header('cache-control', 'private, max-age=300');
  if (!range) return reply.header('content-length', String(file.size)).send(attachments.read(file.hash));
  return reply
    .status(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
    .header('content-length', String(range.end - range.start + 1))
    .send(attachments.read(file.hash, range));
}

/** RFC 6266: an ASCII fallback and the exact name in RFC 8187 encoding. */
function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
