/** The zod schemas of JSON values and hex bytes that case files write (cases.ts, raw.ts). */
import { z } from 'zod';
import type { Json } from './values.js';

/** Any JSON value. */
export const json: z.ZodType<Json> = z.lazy(() => z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]));
/** A JSON object (a message in proto JSON, a script). */
export const jsonObject = z.record(z.string(), json);
/** Bytes as hex, two digits each. */
export const hex = z.string().regex(/^([0-9a-fA-F]{2})*$/, 'hex digits, two per byte (e.g. "00ff")');
