// A WaChap that fails the way the real one does, at random but from a seed, on a virtual clock:
// timeouts, connection resets, 5xx, 429 with and without Retry-After, HTTP 200 error bodies,
// unreadable bodies, invalid numbers, and a long expired-token outage. Like the real one, it
// sometimes delivers the message although the caller never learns it (a timeout, a reset after the
// request was sent, a 200 whose body was cut). It also plays the sender's crashes: before the call,
// after a failed call, and after WaChap accepted the message.
import type { SendOutcome, WaChapClient, WaChapError } from '../../shared/adapters/wachap/client.js';

/** Thrown where a real sender process would have died; nothing after it runs. */
export class SoakCrash extends Error {
  override readonly name = 'SoakCrash';
}

export interface FaultRates {
  timeout: number;
  /** The connection dropped after the request was sent (ECONNRESET). */
  connectionReset: number;
  serverError: number;
  rateLimited: number;
  errorBody: number;
  unreadable: number;
  /** Share of timeouts, resets and unreadable 200s after which WaChap had delivered the message anyway. */
  ambiguousDelivered: number;
  /** A provider-scoped blip (disconnected instance) outside the outage. */
  disconnected: number;
  crashBeforeCall: number;
  crashAfterFailure: number;
  crashAfterAccept: number;
}

export const DEFAULT_FAULTS: FaultRates = {
  timeout: 0.03,
  connectionReset: 0.01,
  serverError: 0.03,
  rateLimited: 0.02,
  errorBody: 0.01,
  unreadable: 0.01,
  ambiguousDelivered: 0.5,
  disconnected: 0.0005,
  crashBeforeCall: 0.005,
  crashAfterFailure: 0.005,
  crashAfterAccept: 0.005,
};

export interface Outage {
  start: number;
  end: number;
}

/** What WaChap did for one recipient: every delivery, and the ones the sender could not know about. */
export interface RecipientLedger {
  deliveries: number;
  /** Accepted, then the sender died before recording it. */
  crashWindow: number;
  /** Delivered although the sender was told timeout, reset or unreadable. */
  ambiguous: number;
}

/** WaChap's answer for an instance that lost its WhatsApp session: a provider-wide failure, which opens the circuit. */
const DISCONNECTED: WaChapError = {
  type: 'application_error',
  httpStatus: 200,
  message: 'Instance disconnected. Please scan the QR code',
};

export class FakeWaChap implements WaChapClient {
  /** Per recipient (E.164): more than one delivery is a duplicate. */
  readonly ledger = new Map<string, RecipientLedger>();
  crashWindow = 0;
  ambiguousDelivered = 0;
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
      /** A disconnected-instance blip for the first send at or after this instant (the soak's --blip-after-recovery). */
      blipAt?: number | undefined;
    },
  ) {}

  /** When the set blip was answered (absent: not yet, or none set). */
  blippedAt: number | undefined;

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
    const { outcome, delivered } = this.answer(input.phone);
    if (delivered) {
      this.entry(input.phone).deliveries++;
      if (!outcome.ok) this.note(input.phone, 'ambiguous');
    }
    if (outcome.ok) {
      if (random() < faults.crashAfterAccept) {
        this.note(input.phone, 'crashWindow');
        return this.crash();
      }
    } else if (random() < faults.crashAfterFailure) {
      return this.crash();
    }
    return outcome;
  }

  private note(phone: string, event: 'crashWindow' | 'ambiguous'): void {
    this.entry(phone)[event]++;
    if (event === 'crashWindow') this.crashWindow++;
    else this.ambiguousDelivered++;
  }

  private entry(phone: string): RecipientLedger {
    let entry = this.ledger.get(phone);
    if (!entry) {
      entry = { deliveries: 0, crashWindow: 0, ambiguous: 0 };
      this.ledger.set(phone, entry);
    }
    return entry;
  }

  private crash(): never {
    this.crashes++;
    throw new SoakCrash('the sender process died here');
  }

  private answer(phone: string): { outcome: SendOutcome; delivered: boolean } {
    const fail = (error: WaChapError, durationMs = 120, delivered = false) => ({
      outcome: { ok: false, error, durationMs } as SendOutcome,
      delivered,
    });
    if (this.inOutage()) {
      this.callsDuringOutage++;
      return fail({ type: 'http_error', httpStatus: 401, message: 'Unauthorized: token expired' });
    }
    const { blipAt } = this.options;
    if (blipAt !== undefined && this.blippedAt === undefined && this.options.clock() >= blipAt) {
      this.blippedAt = this.options.clock();
      return fail(DISCONNECTED);
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
    // The request reached WaChap; whether it went out before the answer was lost is a coin toss.
    const ambiguous = () => random() < faults.ambiguousDelivered;
    if (next(faults.timeout))
      return fail({ type: 'timeout', message: 'WaChap did not answer within 15000 ms' }, 15_000, ambiguous());
    if (next(faults.connectionReset))
      return fail({ type: 'connection_error', message: 'ECONNRESET: socket hang up' }, 2_000, ambiguous());
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
    if (next(faults.unreadable)) {
      const delivered = ambiguous();
      const body = delivered ? '{"status":"success","message":{"key":{"id":"3EB0' : '<html>Bad gateway</html>';
      return fail({ type: 'invalid_response', httpStatus: 200, message: body }, 150, delivered);
    }
    if (next(faults.disconnected)) return fail(DISCONNECTED);
    this.messageIds++;
    return {
      outcome: { ok: true, messageId: `SOAK-${this.messageIds}`, httpStatus: 200, durationMs: 150 },
      delivered: true,
    };
  }
}
