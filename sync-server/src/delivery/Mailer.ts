import nodemailer, { type Transporter, type TransportOptions } from 'nodemailer';
import { DEFAULTS } from '@parley/schema';
import type { SendOutcome } from './sendOutcome';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  /** Stable per digest, so a receiving system can tell a copy from a new mail. */
  messageId: string;
}

/** nodemailer's SMTP error: the server's reply code, and the command it answered. */
interface SmtpError {
  responseCode?: number;
  command?: string;
  code?: string;
  message?: string;
}

/**
 * What an SMTP attempt came to. A reply code is the server's word: 2xx the
 * mail is taken, 4xx try later, 5xx refused. Without one, a failure while
 * connecting or before DATA sent nothing (try later); one during or after
 * DATA may have left the mail with the server, so it is uncertain.
 */
export function smtpOutcome(error: unknown): SendOutcome {
  const e = (error ?? {}) as SmtpError;
  const detail = `${e.command ? `${e.command}: ` : ''}${e.message ?? String(error)}`;
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return { kind: 'rejected', detail };
    return { kind: 'retry', detail };
  }
  const beforeData = e.command !== undefined && e.command !== 'DATA' && !e.command.startsWith('MESSAGE');
  if (beforeData || e.code === 'ECONNECTION' || e.code === 'EDNS') return { kind: 'retry', detail };
  return { kind: 'uncertain', detail: `${detail}: the mail may have been taken, so it is not sent again` };
}

/** Email through SMTP_URL (nodemailer), bounded in time like every other peer. */
export class Mailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport({
      url: smtpUrl,
      connectionTimeout: DEFAULTS.deliveryConnectTimeoutMs,
      greetingTimeout: DEFAULTS.deliveryConnectTimeoutMs,
      socketTimeout: DEFAULTS.deliveryRequestTimeoutMs,
    } as TransportOptions);
  }

  async send(mail: Mail): Promise<SendOutcome> {
    try {
      await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, headers: mail.headers, messageId: mail.messageId });
      return { kind: 'sent' };
    } catch (error) {
      return smtpOutcome(error);
    }
  }

  close(): void {
    this.transport.close();
  }
}
