/**
 * The CloudFormation custom resource protocol: the request the handler receives and the response it must
 * PUT to the pre-signed ResponseURL (CloudFormation waits for that PUT, up to the resource's timeout).
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** A custom resource request, as CloudFormation sends it to a Lambda ServiceToken. */
export interface CfnRequest<P = Record<string, unknown>> {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  readonly ResourceProperties: P;
  /** Update and Delete only. */
  readonly PhysicalResourceId?: string;
  /** Update only. */
  readonly OldResourceProperties?: P;
}

/** The body PUT to the ResponseURL. */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, string>;
}

/**
 * Sends a response, retrying until `until` (epoch milliseconds) when given; injectable so tests can capture it.
 */
export type ResponseSender = (url: string, response: CfnResponse, until?: number) => Promise<void>;

/** CloudFormation refuses responses over 4 KiB: the reason is cut well below that. */
export const MAX_REASON_LENGTH = 2000;

export function truncateReason(reason: string): string {
  const suffix = ' [… truncated]';
  return reason.length <= MAX_REASON_LENGTH ? reason : reason.slice(0, MAX_REASON_LENGTH - suffix.length) + suffix;
}

/** PUTs the response once; rejects on a network error or a non-2xx status. */
function putOnce(url: string, body: string, timeoutMs: number): Promise<void> {
  const target = new URL(url);
  const request = target.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'PUT',
        // The pre-signed S3 URL is signed for an empty content type.
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`ResponseURL answered HTTP ${status}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`ResponseURL did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The default sender: PUT, and on a network error, a timeout or a 5xx, again after a pause that doubles from
 * `firstPauseMs` up to `maxPauseMs` (with jitter), for as long as `until` allows (each attempt's timeout is cut to
 * the time left); without `until`, `attempts` tries. Rejects with the last error.
 */
export function httpResponseSender(
  attempts = 3,
  timeoutMs = 10_000,
  firstPauseMs = 250,
  maxPauseMs = 4_000,
): ResponseSender {
  return async (url, response, until) => {
    const body = JSON.stringify(response);
    let lastError: unknown;
    let pause = firstPauseMs;
    for (let attempt = 1; ; attempt++) {
      const left = until === undefined ? timeoutMs : Math.min(timeoutMs, until - Date.now());
      if (left <= 0) break;
      try {
        await putOnce(url, body, left);
        return;
      } catch (error) {
        lastError = error;
      }
      if (until === undefined && attempt >= attempts) break;
      const wait = Math.round(pause / 2 + Math.random() * (pause / 2));
      if (until !== undefined && Date.now() + wait >= until) break;
      await new Promise((r) => setTimeout(r, wait));
      pause = Math.min(maxPauseMs, pause * 2);
    }
    throw lastError ?? new Error('no time left to answer CloudFormation');
  };
}
