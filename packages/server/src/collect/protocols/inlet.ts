// Not config/index.ts, which intake workers need not load.
import { MAX_WRITE_KEY_LENGTH } from '../../config/write-key.ts';
import type { EventType } from '../../events/index.ts';
import {
  fail,
  isObject,
  optionalId,
  optionalJsonObject,
  optionalString,
  optionalTime,
  requiredProblem,
} from '../fields.ts';
import type { IncomingEvent } from '../incoming.ts';
import { indexedField, type ParsedIntake, parseEach } from './types.ts';

// inlet's compact batch format, sent by the browser tracker (see docs/collector.md):
// { "k": writeKey, "sa": sentAt ms, "e": [ { "id", "t", "n", "ts", "a", "u", "s", "url", "ref", "ti", "p", "c" } ] }

// A Map, not an object literal: "toString" or "__proto__" would find what every object inherits.
const TYPES = new Map<unknown, EventType>([
  ['page', 'page'],
  ['track', 'track'],
  ['identify', 'identify'],
]);
const MAX_EVENTS = 500;
const eventField = indexedField('e', MAX_EVENTS);

function parseEvent(raw: unknown, field: string, sentAt: number | undefined): IncomingEvent {
  if (!isObject(raw)) fail(field, 'must be a JSON object');
  const type = TYPES.get(raw.t);
  if (!type) fail(`${field}.t`, 'must be "page", "track" or "identify"');
  const name = optionalId(raw.n, field, 200, '.n');
  if (type === 'track' && !name) fail(`${field}.n`, requiredProblem('is required for a track event', raw.n));
  const anonymousId = optionalId(raw.a, field, 200, '.a');
  const userId = optionalId(raw.u, field, 200, '.u');
  if (!anonymousId && !userId)
    fail(`${field}.a`, requiredProblem('an anonymous id (a) or user id (u) is required', raw.a, raw.u));
  return {
    eventId: optionalId(raw.id, field, 200, '.id'),
    type,
    name,
    timestamp: optionalTime(raw.ts, field, '.ts'),
    sentAt,
    anonymousId,
    userId,
    sessionId: optionalId(raw.s, field, 200, '.s'),
    url: optionalString(raw.url, field, undefined, '.url'),
    referrer: optionalString(raw.ref, field, undefined, '.ref'),
    title: optionalString(raw.ti, field, 2000, '.ti'),
    campaign: {},
    properties: optionalJsonObject(raw.p, field, '.p'),
    context: optionalJsonObject(raw.c, field, '.c'),
    userAgent: undefined,
    ip: undefined,
  };
}

export function parseInletBatch(body: unknown): ParsedIntake {
  if (!isObject(body)) fail('body', 'must be a JSON object');
  const writeKey = optionalString(body.k, 'k', MAX_WRITE_KEY_LENGTH) ?? undefined;
  const sentAt = optionalTime(body.sa, 'sa');
  if (!Array.isArray(body.e)) fail('e', 'must be an array of events');
  if (body.e.length === 0) fail('e', 'is empty; send at least one event');
  if (body.e.length > MAX_EVENTS) fail('e', `has more than ${MAX_EVENTS} events; split it`);
  const { items, refused, positions } = parseEach(body.e, (raw, i) => parseEvent(raw, eventField(i), sentAt));
  return {
    writeKey,
    events: items,
    refused,
    positions,
    eventField,
    keyHint: 'as k in the body, or in the query (/collect?k=<write key>)',
  };
}
