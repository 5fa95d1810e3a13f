// A WaChap that fails the way the real one does, at random but from a seed, on a virtual clock:
// timeouts, 5xx, 429 with and without Retry-After, HTTP 200 error bodies, unreadable bodies,
// invalid numbers, and a long expired-token outage. It also plays the sender's crashes: before the
// call, after a failed call, and after WaChap accepted the message (the one window that can
// produce a duplicate).
import type { SendOutcome, WaChapClient, WaChapError } from '../../shared/adapters/wachap/client.js';

/** Thrown where a real sender process would have died; nothing after it runs. */
export class SoakCrash extends Error {
  override readonly name = 'SoakCrash';
}

export interface FaultRates {
  timeout: number;
  serverError: number;
  rateLimited: number;
  errorBody: number;
  unreadable: number;
  /** A provider-scoped blip (disconnected instance) outside the outage. */
  disconnected: number;
  crashBeforeCall: number;
  crashAfterFailure: number;
  crashAfterAccept: number;
}

export const DEFAULT_FAULTS: FaultRates = {
  timeout: 0.03,
  serverError: 0.03,
  rateLimited: 0.02,
  errorBody: 0.01,
  unreadable: 0.01,
  disconnected: 0.0005,
  crashBeforeCall: 0.005,
  crashAfterFailure: 0.005,
  crashAfterAccept: 0.005,
};

export interface Outage {
  start: number;
  end: number;
}

export class FakeWaChap implements WaChapClient {
  /** Accepted messages per recipient (E.164): more than one is a duplicate. */
  readonly deliveries = new Map<string, number>();
  /** Sends that WaChap accepted and whose sender then died before recording them. */
  crashWindow = 0;
  calls = 0;
  callsDuringOutage = 0;
  crashes = 0;
  private messageIds = 0;

  constructor(
    private readonly options: {
      random: () => number;
      clock: () => number;
      faults: FaultRates;
      outage: Outage;
      invalidRecipients: ReadonlySet<string>;
    },
  ) {}

  private inOutage(): boolean {
    const now = this.options.clock();
    return now >= this.options.outage.start && now < this.options.outage.end;
  }

  async checkConnection(): Promise<SendOutcome> {
    return this.inOutage()
      ? {
          ok: false,
          error: { type: 'http_error', httpStatus: 401, message: 'Unauthorized: token expired' },
          durationMs: 80,
        }
      : { ok: true, httpStatus: 200, durationMs: 80 };
  }

  async send(input: { phone: string; message: string }): Promise<SendOutcome> {
    const { faults, random } = this.options;
    if (random() < faults.crashBeforeCall) return this.crash();
    this.calls++;
    const outcome = this.answer(input.phone);
    if (outcome.ok) {
      this.deliveries.set(input.phone, (this.deliveries.get(input.phone) ?? 0) + 1);
      if (random() < faults.crashAfterAccept) {
        this.crashWindow++;
        return this.crash();
      }
    } else if (random() < faults.crashAfterFailure) {
      return this.crash();
    }
    return outcome;
  }

  private crash(): never {
    this.crashes++;
    throw new SoakCrash('the sender process died here');
  }

  private answer(phone: string): SendOutcome {
    const fail = (error: WaChapError, durationMs = 120): SendOutcome => ({ ok: false, error, durationMs });
    if (this.inOutage()) {
      this.callsDuringOutage++;
      return fail({ type: 'http_error', httpStatus: 401, message: 'Unauthorized: token expired' });
    }
    if (this.options.invalidRecipients.has(phone)) {
      return fail({
        type: 'application_error',
        httpStatus: 200,
        message: 'Invalid number: not registered on WhatsApp',
      });
    }
    const { faults, random } = this.options;
    let roll = random();
    const next = (rate: number) => {
      roll -= rate;
      return roll < 0;
    };
    if (next(faults.timeout))
      return fail({ type: 'timeout', message: 'WaChap did not answer within 15000 ms' }, 15_000);
    if (next(faults.serverError)) {
      const status = [500, 502, 503, 504][Math.floor(random() * 4)]!;
      return fail({ type: 'http_error', httpStatus: status, message: `HTTP ${status}` });
    }
    if (next(faults.rateLimited)) {
      const withHeader = random() < 0.5;
      return fail({
        type: 'http_error',
        httpStatus: 429,
        message: 'Too many requests',
        ...(withHeader ? { retryAfterSeconds: 60 + Math.floor(random() * 3600) } : {}),
      });
    }
    if (next(faults.errorBody))
      return fail({ type: 'application_error', httpStatus: 200, message: 'Message failed, try again' });
    if (next(faults.unreadable))
      return fail({ type: 'invalid_response', httpStatus: 200, message: '<html>Bad gateway</html>' });
    if (next(faults.disconnected)) {
      return fail({
        type: 'application_error',
        httpStatus: 200,
        message: 'Instance disconnected. Please scan the QR code',
      });
    }
    this.messageIds++;
    return { ok: true, messageId: `SOAK-${this.messageIds}`, httpStatus: 200, durationMs: 150 };
  }
}
