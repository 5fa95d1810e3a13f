// The OTP lane under a flood: a backlog of ordinary notifications drains at WaChap's pace, then an OTP is accepted.
// How long until WaChap sees the OTP, and how many ordinary sends go out in between? Run on the whole local stack
// (API door, ingest, both queues and their event sources, the sender, the sandbox), as a caller would meet it.
// The bench prints the figure; an end-to-end test checks the behaviour with the same scenario.
import { mapWithConcurrency } from '../shared/application/concurrency.js';
import { type E2eStack, startE2eStack, waitFor } from '../test/support/local-stack.js';

export interface OtpLaneOptions {
  /** Ordinary notifications queued before the OTP. */
  backlog: number;
  /** WaChap's rate as configured (both lanes), and the priority lane's share of it. */
  sendsPerSecond: number;
  prioritySendsPerSecond: number;
  /** Ordinary sends that must have gone out before the OTP is posted: the flood is draining at full pace. */
  warmUpSends: number;
}

export const OTP_LANE_DEFAULTS: OtpLaneOptions = {
  backlog: 500,
  sendsPerSecond: 20,
  prioritySendsPerSecond: 2,
  warmUpSends: 20,
};

export interface OtpLaneResult {
  backlog: number;
  /** From the OTP's POST to its arrival at WaChap. */
  otpUnderFloodSeconds: number;
  /** Ordinary notifications WaChap received between the OTP's POST and the OTP. */
  ordinarySentMeanwhile: number;
  /** Ordinary notifications still not sent when the OTP arrived. */
  ordinaryStillWaiting: number;
  /** The pace at which the flood drained before the OTP. */
  ordinarySendsPerSecond: number;
}

const OTP_PHONE = '+22376000001';
/** Distinct Malian mobile numbers, so that no per-recipient limit is met. */
const floodPhone = (i: number) => `+2237${String(1_000_000 + i).padStart(7, '0')}`;

export async function runOtpLane(options: Partial<OtpLaneOptions> = {}, given?: E2eStack): Promise<OtpLaneResult> {
  const settings = { ...OTP_LANE_DEFAULTS, ...options };
  const e2e =
    given ??
    (await startE2eStack({
      env: {
        WACHAP_MAX_SENDS_PER_SECOND: String(settings.sendsPerSecond),
        PRIORITY_SENDS_PER_SECOND: String(settings.prioritySendsPerSecond),
      },
    }));
  try {
    const flood = await mapWithConcurrency(
      Array.from({ length: settings.backlog }, (_, i) => i),
      16,
      async (i) => {
        const answer = await e2e.post({
          recipient: { phone: floodPhone(i) },
          category: 'colis_arrive',
          message: `Votre colis ${i} est arrivé à Bamako.`,
        });
        if (answer.status !== 202) throw new Error(`flood notification ${i}: HTTP ${answer.status}`);
        return answer.body.id!;
      },
    );
    const isOtp = (to: string) => `+${to}` === OTP_PHONE;
    const warm = await waitFor(
      async () => {
        const { messages } = await e2e.inbox();
        return messages.length >= settings.warmUpSends ? messages : undefined;
      },
      60_000,
      `${settings.warmUpSends} ordinary sends`,
    );
    const firstAt = Date.parse(warm[0]!.at);
    const warmAt = Date.parse(warm.at(-1)!.at);

    const postedAt = Date.now();
    const otp = await e2e.post({ recipient: { phone: OTP_PHONE }, category: 'otp', message: 'Votre code : 482913' });
    if (otp.status !== 202) throw new Error(`otp: HTTP ${otp.status}`);
    const messages = await waitFor(
      async () => {
        const { messages: all } = await e2e.inbox();
        return all.some((m) => isOtp(m.to)) ? all : undefined;
      },
      Math.max(120_000, (settings.backlog / settings.sendsPerSecond) * 4000),
      'the OTP at WaChap',
    );
    const otpIndex = messages.findIndex((m) => isOtp(m.to));
    const attemptedAt = Date.parse(messages[otpIndex]!.at);
    const ordinaryBefore = messages.slice(0, otpIndex);
    return {
      backlog: flood.length,
      otpUnderFloodSeconds: (attemptedAt - postedAt) / 1000,
      ordinarySentMeanwhile: ordinaryBefore.filter((m) => Date.parse(m.at) >= postedAt).length,
      ordinaryStillWaiting: flood.length - ordinaryBefore.length,
      ordinarySendsPerSecond:
        warmAt > firstAt ? Math.round(((warm.length - 1) / ((warmAt - firstAt) / 1000)) * 10) / 10 : 0,
    };
  } finally {
    if (!given) await e2e.stop();
  }
}
