/**
 * The interchange format for moving a whole installation from one store to another (`relaygate
 * store copy`): every table a store keeps, in an order where each table comes after the ones it
 * refers to, with its columns and what kind of value each holds. An adapter that can be copied from
 * reads its rows into this shape; one that can be copied into writes rows of this shape. Bodies are
 * not rows: they go through the BodyStore port. A table or column added to a store must be added
 * here too (cli/commands/store-copy.test.ts compares this list with both schemas).
 */

/** text, integer (an int8 that fits a number), boolean, or a list of text. */
export type TransferKind = 'text' | 'int' | 'bool' | 'texts';

export type TransferValue = string | number | boolean | string[] | null;
export type TransferRow = Record<string, TransferValue>;

export const TRANSFER_TABLES = {
  directory_state: { revision: 'int' },
  tenants: { id: 'text', name: 'text', position: 'int', relay_rule_set: 'text', reject_direct_send: 'bool' },
  accepted_domains: { domain: 'text', tenant_id: 'text', position: 'int', type: 'text', match_subdomains: 'bool' },
  inbound_connectors: {
    tenant_id: 'text', name: 'text', position: 'int', type: 'text', enabled: 'bool', sender_ip_addresses: 'texts',
    tls_sender_certificate_name: 'text', require_tls: 'bool', restrict_domains_to_ip_addresses: 'bool',
    restrict_domains_to_certificate: 'bool', sender_domains: 'texts', treat_messages_as_internal: 'bool',
    cloud_services_mail_enabled: 'bool', allow_bare_line_endings: 'text', comment: 'text',
  },
  connector_traffic: { tenant_id: 'text', connector: 'text', day: 'text', accepted: 'int', refused: 'int', last_seen: 'int' },
  connector_certificates: {
    tenant_id: 'text', connector: 'text', fingerprint: 'text', subject: 'text', names: 'texts', issuer: 'text', not_before: 'int', not_after: 'int',
    trusted: 'bool', first_seen: 'int', last_seen: 'int', seen: 'int', null_senders: 'int', foreign_senders: 'int',
  },
  connector_sources: { tenant_id: 'text', connector: 'text', ip: 'text', first_seen: 'int', last_seen: 'int', seen: 'int' },
  tenant_settings_state: { revision: 'int' },
  dkim_keys: {
    tenant_id: 'text', domain: 'text', selector: 'text', algorithm: 'text', private_key: 'text', public_key: 'text', active: 'bool', created_at: 'int',
  },
  outbound_routes: {
    id: 'int', tenant_id: 'text', domains: 'texts', host: 'text', port: 'int', tls: 'text', auth_user: 'text', auth_pass: 'text',
    client_cert: 'text', client_key: 'text',
  },
  srs_settings: { tenant_id: 'text', enabled: 'bool', rewrite_domain: 'text' },
  relayed_header_settings: { tenant_id: 'text', keep: 'bool' },
  tenant_limits: { tenant_id: 'text', daily_recipients: 'int' },
  tenant_recipient_counts: { tenant_id: 'text', day: 'text', recipients: 'int' },
  server_secrets: { name: 'text', value: 'text', created_at: 'int' },
  srs_minted_messages: { message_id: 'text', outside_recipients: 'int', returns: 'int', minted_at: 'int' },
  srs_minted_addresses: { address: 'text', message_id: 'text', minted_at: 'int' },
  messages: {
    id: 'text', kind: 'text', tenant_id: 'text', tenant: 'text', connector: 'text', attribution: 'text', directionality: 'text',
    mail_from: 'text', env_id: 'text', ret: 'text', body_type: 'text', smtputf8: 'bool', size: 'int', client_ip: 'text',
    client_helo: 'text', tls: 'text', header_from: 'text', subject: 'text', message_id_header: 'text', received_at: 'int',
    outside_recipients: 'int',
  },
  recipients: {
    id: 'int', message_id: 'text', address: 'text', domain: 'text', notify: 'text', orcpt: 'text', verdict: 'text', state: 'text',
    attempts: 'int', next_attempt_at: 'int', lease_owner: 'text', lease_until: 'int', lease_generation: 'int', last_reply: 'text', last_attempt_at: 'int',
    last_remote_mta: 'text', dsn_status: 'text', delayed_dsn_sent: 'bool', updated_at: 'int',
  },
  decisions: {
    id: 'int', at: 'int', session_id: 'text', message_id: 'text', client_ip: 'text', tenant_id: 'text', tenant: 'text',
    connector: 'text', attribution: 'text', mail_from: 'text', recipient: 'text', verdict: 'text', reply: 'text', rule_set: 'text',
    current_verdict: 'text', legacy_verdict: 'text', steps: 'text', certificate_name: 'text', header_from_domain: 'text', remedies: 'text',
  },
  admin_tokens: {
    id: 'text', name: 'text', role: 'text', tenant_id: 'text', scope: 'text', secret_hash: 'text', created_at: 'int', expires_at: 'int',
    revoked_at: 'int', created_by: 'text',
  },
  audit_log: {
    id: 'int', at: 'int', actor: 'text', actor_name: 'text', tenant_id: 'text', action: 'text', target: 'text', client_ip: 'text',
    before: 'text', after: 'text',
  },
  trace_events: {
    id: 'int', at: 'int', kind: 'text', status: 'text', tenant_id: 'text', tenant: 'text', session_id: 'text', tx_no: 'int', queue_id: 'text',
    client_ip: 'text', connector: 'text', cert_name: 'text', sender: 'text', sender_domain: 'text', recipient: 'text', recipient_domain: 'text',
    message_id_header: 'text', reason: 'text', rule_set: 'text', detail: 'text',
  },
  // After trace_events: copied events find no subscription yet, so they owe no webhook twice.
  webhook_subscriptions: {
    id: 'text', tenant_id: 'text', url: 'text', event_types: 'text', secret: 'text', previous_secret: 'text', previous_secret_until: 'int',
    enabled: 'bool', created_at: 'int', updated_at: 'int',
  },
  webhook_subscription_events: { tenant_id: 'text', event_type: 'text', subscription_id: 'text' },
  webhook_outbox: {
    id: 'int', subscription_id: 'text', tenant_id: 'text', event_type: 'text', trace_id: 'int', event: 'text', created_at: 'int', state: 'text',
    attempts: 'int', next_attempt_at: 'int', lease_owner: 'text', lease_until: 'int', lease_generation: 'int', last_status: 'int',
    last_error: 'text', finished_at: 'int', dedupe_key: 'text',
  },
  webhook_attempts: {
    id: 'int', outbox_id: 'int', at: 'int', attempt: 'int', outcome: 'text', status_code: 'int', duration_ms: 'int', error: 'text',
  },
} as const satisfies Record<string, Record<string, TransferKind>>;

export type TransferTable = keyof typeof TRANSFER_TABLES;

/** The tables in copy order. */
export const transferTables = Object.keys(TRANSFER_TABLES) as TransferTable[];

/** Some rows of one table. */
export interface TransferBatch {
  table: TransferTable;
  rows: TransferRow[];
}
