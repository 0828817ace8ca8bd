import { ExchangeImportError } from './import-error.js';
import type { JsonObject } from './powershell-json.js';

/**
 * Recognising which cmdlet wrote an object, by properties only that cmdlet's output has, so that a
 * file given for the wrong option (or the wrong export altogether) is named as such instead of
 * failing later on some missing property.
 */
const SIGNATURES: ReadonlyArray<{ cmdlet: string; keys: readonly string[] }> = [
  { cmdlet: 'Get-AcceptedDomain', keys: ['DomainName', 'DomainType'] },
  { cmdlet: 'Get-OutboundConnector', keys: ['ConnectorType', 'SmartHosts'] },
  { cmdlet: 'Get-OutboundConnector', keys: ['ConnectorType', 'RecipientDomains'] },
  { cmdlet: 'Get-InboundConnector', keys: ['ConnectorType', 'SenderIPAddresses'] },
  { cmdlet: 'Get-InboundConnector', keys: ['ConnectorType', 'TlsSenderCertificateName'] },
  { cmdlet: 'Get-MessageTrace', keys: ['MessageId', 'SenderAddress', 'RecipientAddress'] },
];

export function recognizeCmdlet(obj: JsonObject): { cmdlet: string; keys: readonly string[] } | null {
  const present = new Set(Object.keys(obj).map((k) => k.toLowerCase()));
  return SIGNATURES.find((s) => s.keys.every((k) => present.has(k.toLowerCase()))) ?? null;
}

/** Stops the import when an object was clearly written by another cmdlet than `expected`. */
export function expectCmdlet(obj: JsonObject, expected: string, where: string): void {
  const found = recognizeCmdlet(obj);
  if (found && found.cmdlet !== expected) {
    const imported = ['Get-AcceptedDomain', 'Get-InboundConnector'];
    const hint = imported.includes(found.cmdlet) && imported.includes(expected)
      ? 'are the files for --accepted-domains and --inbound-connectors swapped?'
      : `export it with: ${expected} | ConvertTo-Json -Depth 5`;
    throw new ExchangeImportError(
      `${where}: this is the output of ${found.cmdlet} (it has ${found.keys.join(', ')}), not of ${expected}: ${hint}`,
    );
  }
}
