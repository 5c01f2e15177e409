//! The TypeScript types of the requests and responses, shipped in the generated
//! `.d.ts` (checked with `tsc --noEmit --strict` by the package tests).

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A stable error code (`error.code`); `errorCodes()` lists them all. */
export type ErrorCode =
  | "invalid_config" | "invalid_observation" | "invalid_action" | "override_refused"
  | "audit_integrity" | "audit_io" | "invalid_json" | "invalid_message"
  | "missing_identity" | "invalid_timestamp" | "too_large" | "invalid_definition"
  | "not_found" | "capacity_exceeded" | "missing_required_field" | "event_too_old"
  | "event_in_future" | "insufficient_customer_info" | "invalid_currency"
  | "invalid_value" | "audit_locked" | "invalid_time" | "stale_health"
  | "health_config_mismatch" | "not_permitted" | "invalid_encoding" | "unknown_field"
  | "unknown_platform" | "segment_syntax" | "unknown_name" | "type_mismatch"
  | "segment_cycle" | "segment_limit" | "internal";

/** What every function of this package throws: an `Error` with a stable code and
 * the offending field's path (or `null`). */
export interface StratumError extends Error {
  name: "StratumError";
  code: ErrorCode;
  field: string | null;
  /** 1-based line of the offending token (`segment_syntax` only). */
  line?: number;
  /** 1-based column of the offending token (`segment_syntax` only). */
  column?: number;
}

/** An RFC 3339 time (`"2026-03-01T12:05:00Z"`); a `Date` is accepted too. */
export type Time = string | Date;
/** A calendar day, `"2026-03-01"`. */
export type Day = string;
/** A decimal amount as text (`"12.50"`), or a number. */
export type Money = string | number;

export type Platform = "meta" | "google" | "tiktok" | "snapchat";
export type Field =
  | "email" | "phone" | "first_name" | "last_name" | "city" | "state" | "zip"
  | "country" | "gender" | "birth_date" | "external_id" | "client_ip"
  | "user_agent" | "click_id" | "browser_id" | "mobile_ad_id";
/** A value as the caller has it: `raw` text is always normalised and hashed,
 * `auto` text passes through when it already is a SHA-256 digest. */
export type FieldValue =
  | { raw: string }
  | { auto: string }
  | { hashed: { hex: string } | { base64: string } }
  | { date: Day };
/** Customer information per field. */
export type User = Partial<Record<Field, FieldValue>>;

export type WarningCode =
  | "empty" | "unsupported_field" | "invalid_email" | "invalid_phone" | "phone_letters"
  | "phone_no_country_code" | "invalid_state" | "invalid_zip" | "invalid_country"
  | "invalid_gender" | "invalid_birth_date" | "ambiguous_birth_date"
  | "birth_date_out_of_range" | "invalid_ip" | "invalid_click_id" | "invalid_hash"
  | "foreign_hash_format" | "hash_in_raw_field" | "incomplete_address"
  | "phone_region_required" | "phone_not_valid";

export interface NormalizerConfig {
  /** How national phone numbers get their country: `{ default: "US" }`,
   * `"require_international"`, ... */
  phone_region?: { default: string } | string;
  external_id_mode?: "lowercase" | "as_is" | string;
  google_encoding?: "hex" | "base64";
  /** The day birth dates are judged at. */
  today?: Day;
}

export interface NormalizeRequest {
  platform: Platform;
  values: { field: Field; value: FieldValue; country?: string }[];
  today?: Day;
}
export interface NormalizeOutcome {
  field: Field;
  /** The platform's key (`"em"`), when sent. */
  key: string | null;
  /** The value to send (a digest, or normalised text for a key sent in clear). */
  value: string | null;
  /** The normalised text that was hashed, when hashed here. */
  normalized: string | null;
  origin: "hashed" | "pre_hashed" | "raw" | null;
  note: WarningCode | null;
  /** Why the value is dropped. */
  warning: WarningCode | null;
  message: string | null;
}
export interface NormalizeResponse { results: NormalizeOutcome[]; }

export interface HashRequest {
  platform: Platform;
  field: Field;
  values: string[];
  country?: string;
  today?: Day;
}
/** The value to send per input value, `null` when it is dropped. */
export interface HashResponse { values: (string | null)[]; }

export type EmqKey =
  | "email" | "click_id" | "phone" | "external_id" | "browser_id" | "birth_date"
  | "country" | "ip_ua" | "first_name" | "last_name" | "city" | "zip" | "state"
  | "gender";
export interface EmqEventInput { user?: User; event_id?: string; }
export interface RoasModel {
  attributed_revenue: Money;
  spend: Money;
  uplift_per_point?: number;
}
export interface ReportOptions { roas?: RoasModel | null; }

export interface EmqScoreRequest { platform: Platform; event: EmqEventInput; }
export interface KeyContribution {
  key: EmqKey;
  weight: number;
  state: "valid" | "pre_hashed" | "invalid" | "missing";
  /** EMQ points the key adds. */
  points: number;
}
export interface EventScore {
  /** Always `"stratum-emq-1"`: our heuristic, not a platform's score. */
  model: string;
  model_name: string;
  /** 0..10, one decimal. */
  score: number;
  uncapped: number;
  contributions: KeyContribution[];
}
export interface RoasImpact {
  matched_conversion_uplift: number;
  attributed_revenue_delta: string;
  roas_delta: string;
}
export interface FixSuggestion {
  key: EmqKey;
  estimated_emq_gain: number;
  missing_share: number;
  invalid_share: number;
  roas_impact: RoasImpact | null;
  remediation: string;
}
export interface EmqReportRequest {
  platform: Platform;
  events: EmqEventInput[];
  options?: ReportOptions;
}
export interface KeyCoverage {
  key: EmqKey;
  weight: number;
  valid: number;
  pre_hashed: number;
  invalid: number;
  missing: number;
  coverage: number;
}
export interface BatchReport {
  model: string;
  model_name: string;
  events: number;
  emq: number;
  coverage: KeyCoverage[];
  distribution: { bands: number[]; mean: number; p10: number; p50: number; p90: number };
  duplicates: number;
  without_event_id: number;
  fixes: FixSuggestion[];
}
export interface EmqPreviewRequest {
  platform: Platform;
  event: EmqEventInput;
  options?: ReportOptions;
}
export interface EmqPreview {
  /** One entry per field of `event.user`, in field order. */
  keys: NormalizeOutcome[];
  score: EventScore;
  /** Largest estimated EMQ gain first. */
  fixes: FixSuggestion[];
}

export interface ConversionEvent {
  event_name: string;
  event_time: Time;
  event_id?: string;
  action_source: string;
  event_source_url?: string;
  user?: User;
  value?: Money;
  currency?: string;
  contents?: Record<string, unknown>[];
  consent?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface PayloadRequest {
  platform: Platform;
  now: Time;
  events: ConversionEvent[];
  options?: Record<string, unknown>;
}
export interface Row { index: number; code: string; field: string | null; message: string; }
export interface Payloads {
  /** The platform's documented request bodies. */
  requests: Record<string, unknown>[];
  rejected: Row[];
  warnings: Row[];
  event_indices: number[][];
}
export interface AudienceRequest {
  platform: Platform;
  members: { user: User }[];
  operation: "add" | "remove";
  options?: Record<string, unknown>;
}
export interface Audience {
  requests: Record<string, unknown>[];
  skipped: number[];
  warnings: Row[];
}

export interface Scope { tenant: string; platform?: string; ad_account?: string; }
export interface Signals {
  scope: Scope;
  emq?: Record<string, unknown>;
  api?: Record<string, unknown>;
  events?: Record<string, unknown>;
  stability?: Record<string, unknown>;
  data_quality?: Record<string, unknown>;
}
export type Component =
  | "emq" | "api_health" | "event_loss" | "platform_stability" | "data_quality";
export interface HealthRequest {
  config?: Record<string, unknown>;
  signals: Signals;
  now: Time;
}
export interface ComponentScore {
  component: Component;
  raw: number | null;
  score: number | null;
  weight: number;
  effective_weight: number;
  contribution: number;
  samples: number;
  observed_at: string | null;
  missing?: string;
  notes?: unknown[];
}
export interface HealthReport {
  scope: Scope;
  computed_at: string;
  as_of: string | null;
  score: number;
  status: "healthy" | "degraded" | "unhealthy";
  policy: string;
  present_weight: number;
  components: ComponentScore[];
  missing: Component[];
  config_hash: string;
  [key: string]: unknown;
}
export interface GateRequest {
  config?: Record<string, unknown>;
  signals: Signals;
  action: {
    kind: { type: string; [key: string]: unknown };
    target: { scope: Scope; id: string };
    proposer: { type: "autopilot" } | { type: "person"; [key: string]: unknown };
    data_volume?: unknown;
  };
  now: Time;
}
export interface Decision {
  decided_at: string;
  gate: "pass" | "hold" | "block" | "inconclusive";
  outcome: "execute" | "alert_only" | "manual_required" | string;
  health: { score: number; status: "healthy" | "degraded" | "unhealthy"; [key: string]: unknown };
  enforcement: string;
  reasons: unknown[];
  /** Absent here: a preview writes no audit record. */
  audit_seq?: number;
  [key: string]: unknown;
}
export interface MessageRequest {
  /** The message as received (JSON text). */
  body: string;
  received_at: Time;
  config?: Record<string, unknown>;
}
export interface Message {
  type: "identify" | "track" | "page" | "screen" | "group" | "alias";
  message_id: string;
  timestamp: string;
  [key: string]: unknown;
}

/** A typed literal of a segment's JSON form (`docs/segments.md`). */
export type SegmentLiteral =
  | { string: string } | { number: string } | { bool: boolean } | { timestamp: string }
  | { list: SegmentLiteral[] };
export type SegmentOp =
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "in" | "contains" | "starts_with" | "exists";
/** A trait, computed-trait or property condition (`value` absent for `exists`). */
export interface SegmentPredicate { name: string; op: SegmentOp; value?: SegmentLiteral; }
export type SegmentCount = { at_least: number } | { at_most: number } | { exactly: number };
/** Seconds before the evaluation time. */
export type SegmentWindow =
  | { within: { seconds: number } }
  | { between: { from_seconds: number; to_seconds: number } };
/** The JSON form of a segment: the tree its text form parses to. */
export type SegmentJson =
  | { and: SegmentJson[] }
  | { or: SegmentJson[] }
  | { not: SegmentJson }
  | { trait: SegmentPredicate }
  | { computed: SegmentPredicate }
  | { event: { event: string; count?: SegmentCount; window?: SegmentWindow; filters?: SegmentPredicate[] } }
  | { in_audience: string }
  | { consent: string };
export type SegmentValueType = "string" | "number" | "bool" | "timestamp" | "list" | "any";
/** The names segments may use, with their types. */
export interface SegmentSchema {
  traits?: Record<string, SegmentValueType>;
  events?: Record<string, Record<string, SegmentValueType>>;
  computed?: Record<string, SegmentValueType>;
}
export interface SegmentRequest {
  /** The text form, or the JSON form. */
  segment: string | SegmentJson;
  schema?: SegmentSchema | null;
}
export interface SegmentForms { text: string; json: SegmentJson; }
/** An audience: a stable key, a display name, the segment in either form. */
export interface AudienceDefinition { key: string; name?: string | null; segment: string | SegmentJson; }
/** A computed-trait definition (`docs/cdp.md`). */
export interface ComputedTraitDefinition {
  name: string;
  kind: "count" | "sum" | "avg" | "min" | "max" | "first" | "last" | "most_frequent" | "unique_list" | "unique_count";
  event?: string;
  property?: string;
  filters?: Record<string, unknown>[];
  window_seconds?: number;
  allowed_lateness_seconds?: number;
}
export interface PersonAudiencesRequest {
  audiences: AudienceDefinition[];
  computed_traits?: ComputedTraitDefinition[];
  /** The person's Segment-spec messages, any order; each read as received at `now`. */
  messages: Record<string, unknown>[];
  now: Time;
}
export interface TableRequest {
  audiences: AudienceDefinition[];
  /** When given, computed-trait conditions must name one of these. */
  computed_traits?: ComputedTraitDefinition[] | null;
  table: {
    /** Column name → one value per row (`null` is missing); traits by name. */
    columns: Record<string, unknown[]>;
    /** Computed-trait name → column (default: the trait's name). */
    computed?: Record<string, string>;
    /** Consent category → column of booleans (default: `consent.<category>`). */
    consent?: Record<string, string>;
  };
}
export interface PersonAudiences {
  /** Each resolved profile (sorted by id): audience key → member or not. */
  profiles: { profile: string; audiences: Record<string, boolean> }[];
  /** Audience key → member profiles, sorted. */
  members: Record<string, string[]>;
}
"#;
