import type { Directory, Tenant } from '../directory/model.js';
import { DirectoryValidationError, validateDirectory } from '../directory/validate.js';
import { importAcceptedDomains } from './accepted-domains.js';
import { ExchangeImportError } from './import-error.js';
import { importInboundConnectors } from './inbound-connectors.js';
import { readPowerShellJson, type JsonObject } from './powershell-json.js';

/**
 * `Get-AcceptedDomain` + `Get-InboundConnector` exports of one Exchange Online organization → one
 * relaygate tenant, validated by the directory validator (so what is written is what `apply` takes).
 */
export interface ExchangeOnlineImport {
  /** A directory holding exactly the imported tenant, canonical and validated. */
  directory: Directory;
  tenant: Tenant;
  /** Properties of the exports that relaygate does not model, each once per cmdlet. */
  ignored: { cmdlet: string; properties: string[] }[];
  /** Remarks: values kept but not enforced the same way, how the tenant name was chosen. */
  notes: string[];
}

export interface ExchangeOnlineFiles {
  acceptedDomains: string;
  inboundConnectors: string;
  /** The relaygate tenant name; default: the initial domain's label (`contoso` of contoso.onmicrosoft.com). */
  tenant?: string | undefined;
}

export async function importExchangeOnline(files: ExchangeOnlineFiles): Promise<ExchangeOnlineImport> {
  const domains = await readPowerShellJson(files.acceptedDomains, '--accepted-domains');
  const connectors = await readPowerShellJson(files.inboundConnectors, '--inbound-connectors');
  return buildExchangeOnlineTenant(domains, connectors, files);
}

export function buildExchangeOnlineTenant(
  domainObjects: JsonObject[],
  connectorObjects: JsonObject[],
  files: ExchangeOnlineFiles,
): ExchangeOnlineImport {
  const domains = importAcceptedDomains(domainObjects, files.acceptedDomains);
  const connectors = importInboundConnectors(connectorObjects, files.inboundConnectors);
  const notes = [...domains.notes, ...connectors.notes];
  let name = files.tenant?.trim();
  if (!name) {
    const initial = domains.initialDomain?.match(/^([^.]+)\.(?:mail\.)?onmicrosoft\.(?:com|de|us)$/)?.[1];
    name = initial ?? domains.defaultDomain ?? undefined;
    if (!name) {
      throw new ExchangeImportError(
        `${files.acceptedDomains}: cannot name the tenant (no InitialDomain or Default domain in the export): give --tenant NAME`,
      );
    }
    notes.push(`tenant named "${name}" after ${initial ? `the initial domain ${domains.initialDomain}` : 'the default accepted domain'} (use --tenant to choose)`);
  }
  const input = {
    tenants: [
      {
        name,
        relayRuleSet: 'auto',
        rejectDirectSend: false,
        acceptedDomains: domains.domains,
        inboundConnectors: connectors.connectors,
      },
    ],
  };
  let directory: Directory;
  try {
    directory = validateDirectory(input);
  } catch (err) {
    if (err instanceof DirectoryValidationError) {
      throw new ExchangeImportError(`the imported configuration is not valid for relaygate:\n  ${err.lines.join('\n  ')}`);
    }
    throw err;
  }
  const ignored = [
    { cmdlet: 'Get-AcceptedDomain', properties: domains.ignored },
    { cmdlet: 'Get-InboundConnector', properties: connectors.ignored },
  ].filter((g) => g.properties.length > 0);
  const tenant = directory.tenants[0];
  if (!tenant) throw new Error('validated directory lost its tenant');
  return { directory, tenant, ignored, notes };
}
