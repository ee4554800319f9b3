// Check-digit validation for the identity numbers Baygate masks and validates. Detectors check,
// not just match: an 18-digit order number is not an ID card number.

const RESIDENT_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_ID_CHECK = '10X98765432';

/** GB 11643-1999 citizen identification number: 17 digits and an ISO 7064 MOD 11-2 check character. */
export function isMainlandResidentId(value: string): boolean {
  if (!hasResidentIdShape(value)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (value.charCodeAt(i) - 48) * RESIDENT_ID_WEIGHTS[i]!;
  return value[17]!.toUpperCase() === RESIDENT_ID_CHECK[sum % 11];
}

/**
 * The shape of a resident ID with a real birth date, whatever its check character. Masking uses
 * this: a mistyped ID number is still somebody's personal data.
 */
export function hasResidentIdShape(value: string): boolean {
  if (!/^[1-9][0-9]{16}[0-9Xx]$/.test(value)) return false;
  // Birth date (positions 7-14) must be a real calendar date.
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The check character a 17-digit prefix needs (for test data and the demo). */
export function mainlandResidentIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * RESIDENT_ID_WEIGHTS[i]!;
  return RESIDENT_ID_CHECK[sum % 11]!;
}

/** Hong Kong identity card: one or two letters, six digits and a MOD 11 check character, e.g. A123456(3). */
export function isHongKongId(value: string): boolean {
  const match = /^([A-Z]{1,2})([0-9]{6})\(?([0-9A])\)?$/.exec(value.toUpperCase());
  if (!match) return false;
  const [, letters, digits, check] = match as unknown as [string, string, string, string];
  const padded = letters.length === 1 ? ' ' + letters : letters;
  let sum = 0;
  for (let i = 0; i < 2; i++) {
    const ch = padded[i]!;
    sum += (ch === ' ' ? 36 : ch.charCodeAt(0) - 55) * (9 - i);
  }
  for (let i = 0; i < 6; i++) sum += (digits.charCodeAt(i) - 48) * (7 - i);
  const remainder = (11 - (sum % 11)) % 11;
  return check === (remainder === 10 ? 'A' : String(remainder));
}

/** ISO/IEC 7812 Luhn check, for bank card numbers. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}
