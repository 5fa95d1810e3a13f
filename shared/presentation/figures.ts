// Figures as an admin reads them, in French or English: a ratio is a percentage with one decimal (66,7 % / 66.7%),
// never 0.6666…; a duration is in minutes, hours and days (12 min, 2 h 05 min); an instant is UTC to the minute.
import type { FigureName } from '../domain/health.js';

export type Language = 'fr' | 'en';

export type FigureKind = 'count' | 'ratio' | 'duration' | 'instant';

/** Every figure an alert may carry: its kind (how its number reads) and its label in each language. */
export const FIGURES: Record<FigureName, { kind: FigureKind; label: Record<Language, string> }> = {
  failures: { kind: 'count', label: { fr: 'Échecs', en: 'Failures' } },
  attempts: { kind: 'count', label: { fr: 'Tentatives', en: 'Attempts' } },
  threshold: { kind: 'count', label: { fr: 'Seuil', en: 'Threshold' } },
  failureRate: { kind: 'ratio', label: { fr: "Taux d'échec", en: 'Failure rate' } },
  failureRateThreshold: { kind: 'ratio', label: { fr: 'Seuil du taux', en: 'Rate threshold' } },
  permanentFailures: { kind: 'count', label: { fr: 'Échecs définitifs', en: 'Permanent failures' } },
  otpFailures: { kind: 'count', label: { fr: 'OTP en échec', en: 'OTP failures' } },
  consecutiveFailures: { kind: 'count', label: { fr: "Échecs d'affilée", en: 'Failures in a row' } },
  dlqDepth: { kind: 'count', label: { fr: 'Messages dans la DLQ', en: 'Messages in the DLQ' } },
  count: { kind: 'count', label: { fr: 'Notifications à envoyer', en: 'Notifications due' } },
  oldestAgeMinutes: { kind: 'duration', label: { fr: 'Attente de la plus ancienne', en: 'Oldest waiting for' } },
  minutesSinceOpen: { kind: 'duration', label: { fr: 'Indisponible depuis', en: 'Unavailable for' } },
  openedAt: { kind: 'instant', label: { fr: 'Circuit ouvert le', en: 'Circuit opened at' } },
};

/** 1234 → "1 234" / "1,234". */
export function formatCount(value: number, language: Language): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, language === 'fr' ? ' ' : ',');
}

/** 0.6666… → "66,7 %" / "66.7%": always one decimal, so that 50 % and 50.04 % do not read alike. */
export function formatRatio(value: number, language: Language): string {
  const percent = (Math.round(value * 1000) / 10).toFixed(1);
  return language === 'fr' ? `${percent.replace('.', ',')} %` : `${percent}%`;
}

/** Minutes → "12 min", "2 h 05 min", "3 j 4 h" / "3 d 4 h". */
export function formatDuration(minutes: number, language: Language): string {
  const total = Math.max(0, Math.round(minutes));
  if (total < 60) return `${total} min`;
  const hours = Math.floor(total / 60);
  if (hours < 24) return `${hours} h ${String(total % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} ${language === 'fr' ? 'j' : 'd'} ${hours % 24} h`;
}

/** An instant (epoch ms or ISO 8601) → "27/11/2025 10:30 UTC" / "2025-11-27 10:30 UTC"; an unreadable one as given. */
export function formatInstant(at: number | string, language: Language): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  const [day, time] = date.toISOString().split('T') as [string, string];
  const [y, m, d] = day.split('-');
  return `${language === 'fr' ? `${d}/${m}/${y}` : day} ${time.slice(0, 5)} UTC`;
}

export function formatFigure(name: FigureName, value: number, language: Language): string {
  const { kind } = FIGURES[name];
  switch (kind) {
    case 'count':
      return formatCount(value, language);
    case 'ratio':
      return formatRatio(value, language);
    case 'duration':
      return formatDuration(value, language);
    case 'instant':
      return formatInstant(value, language);
    default: {
      const _never: never = kind;
      return _never;
    }
  }
}
