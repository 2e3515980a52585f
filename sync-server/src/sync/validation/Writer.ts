/** Who is writing: the connection's user, and whether they may moderate. */
export interface Writer {
  userId: string;
  admin: boolean;
}
