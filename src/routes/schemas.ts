import { Type } from 'typebox';

/** The body of every error response, as OpenAPI shows it. */
export const ErrorSchema = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });

/** The refusals every route behind a token may answer with. */
export const REFUSALS = { 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema } as const;

/** Bearer token in the Authorization header (the scheme app.ts declares). */
export const BEARER = [{ bearerAuth: [] }];

/** A schema that also allows null. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
