import { z } from 'zod';
import { Id } from './ids';
import { DEFAULTS } from './defaults';

export const Role = z.enum(['admin', 'service']);
export type Role = z.infer<typeof Role>;

/** What Parley reads from a verified JWT. Unknown roles are ignored, not fatal. */
export const Claims = z.object({
  sub: Id,
  exp: z.number().int(),
  name: z.string().max(DEFAULTS.nameMaxLength).optional(),
  roles: z
    .array(z.string())
    .optional()
    .transform((roles) => (roles ?? []).filter((r): r is Role => Role.safeParse(r).success)),
  /** Where the user's email and SMS may go (issue 10); kept as given, checked where they are used. */
  email: z.string().max(320).optional().catch(undefined),
  phone_number: z.string().max(32).optional().catch(undefined),
});
export type Claims = z.infer<typeof Claims>;

/** The authenticated caller, as the rest of the code sees it. */
export interface Identity {
  userId: string;
  name: string;
  roles: readonly Role[];
  /** Token expiry, ms epoch. */
  expiresAt: number;
  /** The token's `email` and `phone_number` claims, when it had them. */
  contact?: { email: string | null; phone: string | null };
}

export const isAdmin = (who: Pick<Identity, 'roles'>): boolean => who.roles.includes('admin');
export const isService = (who: Pick<Identity, 'roles'>): boolean => who.roles.includes('service');
