/** API token roles, from most to least powerful. */
export const Role = { Admin: 'admin', Operator: 'operator', Viewer: 'viewer' } as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

const RANK: Record<Role, number> = { admin: 3, operator: 2, viewer: 1 };

/** Whether a token with `have` may do what needs `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revoked: boolean;
}
