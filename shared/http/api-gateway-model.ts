// API Gateway's request model of a body, derived from the zod schema its function parses with, so that the two
// cannot drift apart: a JSON Schema draft 4 document of what API Gateway's validator understands and never refuses
// more than the function accepts. The function stays the authority on fields (its errors name them; a refusal of
// API Gateway's is a bare 400 bad_request_body), so the model keeps the shape and leaves out what it would judge
// differently: patterns (API Gateway's validator is not ECMAScript regex), formats, and lengths of text the
// function normalises before it counts (CRLF to LF, trimmed: a title of 200 characters and a trailing space is
// accepted).
import * as z from 'zod';

/** A JSON Schema (draft 4) as API Gateway models hold it: only the keywords kept below. */
export interface ApiGatewayModelSchema {
  type?: string | string[];
  required?: string[];
  properties?: Record<string, ApiGatewayModelSchema>;
  additionalProperties?: boolean | ApiGatewayModelSchema;
  items?: ApiGatewayModelSchema;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

const KEPT_KEYWORDS = [
  'type',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'enum',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
] as const;

/** A string schema whose value is rewritten (trim, overwrite) before its length is checked. */
const normalisesText = (schema: z.core.$ZodType): boolean =>
  schema._zod.def.type === 'string' &&
  (schema._zod.def.checks ?? []).some((check) => check._zod.def.check === 'overwrite');

function keep(node: Record<string, unknown>): ApiGatewayModelSchema {
  const kept: Record<string, unknown> = {};
  for (const keyword of KEPT_KEYWORDS) {
    const value = node[keyword];
    if (value === undefined) continue;
    if (keyword === 'properties') {
      kept[keyword] = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([name, schema]) => [name, keep(schema)]),
      );
    } else if ((keyword === 'items' || keyword === 'additionalProperties') && typeof value === 'object') {
      kept[keyword] = keep(value as Record<string, unknown>);
    } else {
      kept[keyword] = value;
    }
  }
  return kept as ApiGatewayModelSchema;
}

/**
 * The request model of `schema`: what the caller sends (its input), in draft 4, without ids or references (an empty
 * metadata registry: API Gateway resolves a $ref only to another model), reduced to KEPT_KEYWORDS. What JSON Schema
 * cannot say (refinements, transforms) is left to the function.
 */
export function apiGatewayModelSchema(schema: z.ZodType): ApiGatewayModelSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-4',
    io: 'input',
    unrepresentable: 'any',
    metadata: z.registry(),
    override: ({ zodSchema, jsonSchema }) => {
      if (normalisesText(zodSchema)) {
        delete jsonSchema.minLength;
        delete jsonSchema.maxLength;
      }
    },
  });
  return keep(json as Record<string, unknown>);
}
