/** API tokens: `/tokens…`, `/whoami`. */
import { Type } from 'typebox';
import { ROLES } from '../../core/auth.ts';
import { Label, Lit, Nullable } from './common.ts';

export const RoleT = Lit(ROLES);

export const TokenT = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: RoleT,
    createdAt: Type.String(),
    expiresAt: Nullable(Type.String()),
    lastUsedAt: Nullable(Type.String()),
    revoked: Type.Boolean(),
  },
  { $id: 'Token' },
);

export const CreateTokenBody = Type.Object(
  {
    name: Label,
    role: RoleT,
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export const CreatedTokenT = Type.Object({
  token: Type.Ref('Token'),
  secret: Type.String({ description: 'The bearer token; shown once, store it now' }),
});
