import { DEFAULTS, inboxDocName, isAdmin, readPrefs, channelsFor, type AdminReport, type Identity, type Report } from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { ReportRecord, Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { addNotification } from '../notifications/inboxWrites';
import { render } from '../notifications/templates';

/** One notification per report: closing it again (a retry) tells the reporter nothing new. */
export const reportNotificationId = (reportId: string): string => `report:${reportId}`;

/**
 * Reports and their moderation (CONTRACT section 4, issue 14 item 4): a
 * member reports a message with a reason; an admin lists the open reports
 * (`GET /api/admin/reports`), opens the conversation (admins open any), soft
 * deletes the message as admin (`DELETE .../messages/:messageId`) if it must
 * go, and closes the report, which notifies the reporter. A report keeps no
 * copy of the message: the admin reads it from the index as it is now, so a
 * deleted message's text survives in no report.
 */
export class Reports {
  constructor(private readonly deps: { storage: Storage; writer: ServerWriter }) {}

  async report(caller: Identity, conversationId: string, messageId: string, reason: string): Promise<Report> {
    const { conversations, messages, reports } = this.deps.storage;
    if (!(await conversations.get(conversationId))) throw ApiError.notFound(`no conversation ${conversationId}`);
    if (!isAdmin(caller) && !(await conversations.role(conversationId, caller.userId))) throw ApiError.forbidden('you are not a member of this conversation');
    if (!(await messages.get(conversationId, messageId))) throw ApiError.notFound(`no message ${messageId} in this conversation`);
    if ((await reports.openCount(caller.userId)) >= DEFAULTS.reportsOpenMaxPerUser) {
      throw ApiError.limitReached(`a user has at most ${DEFAULTS.reportsOpenMaxPerUser} open reports; wait for a moderator to handle them`);
    }
    const added = await reports.add({ conversationId, messageId, reporter: caller.userId, reason, createdAt: Date.now() });
    if (!added) throw ApiError.conflict('you reported this message already');
    return added;
  }

  async list(state: 'open' | 'closed' | 'all', limit: number): Promise<AdminReport[]> {
    const { conversations, messages, reports } = this.deps.storage;
    const rows = await reports.list(state, limit);
    const out: AdminReport[] = [];
    for (const row of rows) {
      const record = await conversations.get(row.conversationId);
      const message = await messages.get(row.conversationId, row.messageId);
      out.push({
        ...row,
        conversation: record ? { id: record.id, title: record.title, kind: record.kind } : null,
        message: message
          ? { id: message.id, author: message.author, text: message.text, createdAt: message.createdAt, ...(message.deletedAt !== undefined && { deletedAt: message.deletedAt }) }
          : null,
      });
    }
    return out;
  }

  /**
   * Closes a report and tells the reporter it was handled. Closing a closed
   * report answers it as it is (the first close stands) and makes sure the
   * reporter was told, so a retry after a failure in between completes it.
   */
  async close(caller: Identity, id: string): Promise<Report> {
    const { reports } = this.deps.storage;
    const found = await reports.get(id);
    if (!found) throw ApiError.notFound(`no report ${id}`);
    if (found.closedAt === null) await reports.close(id, caller.userId, Date.now());
    const closed = (await reports.get(id))!;
    await this.tellReporter(closed);
    return closed;
  }

  private async tellReporter(report: ReportRecord): Promise<void> {
    const { title, body } = render('report_handled', {});
    const data = { conversationId: report.conversationId, entity: { type: 'report', id: report.id }, url: `/c/${report.conversationId}` };
    await this.deps.writer.write(inboxDocName(report.reporter), (inbox) => {
      if (!channelsFor(readPrefs(inbox), 'report_handled').inApp) return;
      addNotification(inbox, { id: reportNotificationId(report.id), kind: 'report_handled', title, body, data }, Date.now());
    });
  }
}
