import { isInteger, isSafeNumber, parse } from 'lossless-json';

/**
 * Parses a webhook body without losing digits: an integer beyond 2^53 (a Prometheus group key, an
 * Opsgenie nanosecond timestamp) becomes a string of its exact digits instead of a rounded number.
 * Every other number is a plain number. Duplicate keys are an error, as they are ambiguous.
 */
export function parsePayload(text: string): unknown {
  return parse(text, null, (digits) =>
    isSafeNumber(digits) || !isInteger(digits) ? Number(digits) : digits,
  );
}
