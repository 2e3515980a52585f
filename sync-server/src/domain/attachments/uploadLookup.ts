import type { AttachmentStore } from '../../storage/Storage';
import type { UploadLookup } from '../../sync/validation/attachmentRefs';

/** The validator's view of the stored uploads. */
export const uploadLookup =
  (store: AttachmentStore): UploadLookup =>
  (url) => {
    const record = store.find(url);
    return record && { conversationId: record.conversationId, name: record.name, type: record.type, size: record.size, width: record.width, height: record.height };
  };
