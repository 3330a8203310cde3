import { describe, expect, it } from "vitest";
import { NEW_ORG, companyAuth, companyProblems, emptyCompanyForm, isCompanyAuth, issuerProblem, newOrgInput, orgNameProblem, readCompanyAuth } from "./companyAuth";

const SECRET = "server-secret-never-in-the-file";

describe("the auth a company sign-in writes", () => {
  it("names the organisation and the server's client, with the secret as a keychain placeholder", () => {
    const form = { ...emptyCompanyForm("acme"), clientId: "wiki-client", clientSecret: SECRET };
    const auth = companyAuth(null, "wiki", form, "acme");
    expect(auth).toEqual({ type: "enterprise", org: "acme", clientId: "wiki-client", clientSecret: "${secret:wiki-client-secret}" });
    expect(JSON.stringify(auth)).not.toContain(SECRET);
    expect(readCompanyAuth(auth)).toEqual({ org: "acme", clientId: "wiki-client", hasSecret: true });
  });

  it("keeps the entry's other keys and its stored secret when none is typed, and drops client-credentials keys", () => {
    const base = { org: "old", clientId: "c", clientSecret: "${secret:wiki-client-secret}", scopes: ["read"], dpop: true, credentials: "x" };
    const auth = companyAuth(base, "wiki", { ...emptyCompanyForm("acme"), clientId: "c2" }, "acme");
    expect(auth).toEqual({ type: "enterprise", org: "acme", clientId: "c2", clientSecret: "${secret:wiki-client-secret}", scopes: ["read"], dpop: true });
    // A client-credentials entry is not a company one: nothing of it is carried over.
    expect(companyAuth({ type: "client_credentials", credentials: "m", org: "x" }, "s", { ...emptyCompanyForm("acme"), clientId: "c" }, "acme")).toEqual({
      type: "enterprise",
      org: "acme",
      clientId: "c",
    });
    expect(isCompanyAuth({ type: "client_credentials", org: "x" })).toBe(false);
    expect(isCompanyAuth(null)).toBe(false);
  });

  it("checks the inline company and the server's client id, first problem first", () => {
    const form = emptyCompanyForm(NEW_ORG);
    expect(companyProblems(form, [])).toEqual([
      "Give your company a short name, like acme.",
      "Give your company's sign-in address, like https://acme.okta.com.",
      "Give Latch's client ID at your company (your IT admin has it).",
      "Give the client ID this server's sign-in server knows Latch by (your IT admin has it).",
    ]);
    expect(orgNameProblem("acme", ["acme"])).toBe("There is already a company named acme.");
    expect(orgNameProblem("a b", [])).toContain("a b");
    expect(issuerProblem("ftp://idp.acme.com")).toBe("The sign-in address ftp://idp.acme.com must start with https://.");
    expect(issuerProblem("not a url")).toContain("not a url");
    expect(issuerProblem("https://acme.okta.com")).toBeNull();
    const ok = { ...form, newOrg: { name: " acme ", issuer: " https://acme.okta.com ", clientId: " latch " }, clientId: "wiki" };
    expect(companyProblems(ok, [])).toEqual([]);
    expect(newOrgInput(ok.newOrg)).toEqual({ name: "acme", issuer: "https://acme.okta.com", clientId: "latch", clientSecret: null, clientMetadataUrl: null, scopes: [] });
  });
});
