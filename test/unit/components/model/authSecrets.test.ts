import { createHmac } from "crypto";
import { describe, expect, it } from "vitest";
import { authSecret, md5Secret, SCRAM_ITERATIONS, scramSalt, scramSecret } from "../../../../components/model/authSecrets";
import { parseScramVerifier, scramVerifierAccepts } from "../../support/fileParsers";

// Known answers were computed once, outside the project, with python3:
//   sp = hashlib.pbkdf2_hmac('sha256', password, salt, 4096, 32)
//   StoredKey = sha256(hmac(sp, 'Client Key')); ServerKey = hmac(sp, 'Server Key')
// and that script reproduces RFC 7677's example proof and server signature for user/pencil.

/** RFC 7677 section 3: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations. */
const RFC7677_SALT = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
const RFC7677_VERIFIER =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
const RFC7677_AUTH_MESSAGE =
    "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const RFC7677_SERVER_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

const SCOPE = "postgres-primary.internal:5432/deltacrown";
const tierScram = (user: string, password: string) => authSecret("scram-sha-256", user, password, SCOPE);

describe("md5 secrets", () => {
    it("match PgBouncer's documented example: admin / 1234", () => {
        expect(md5Secret("admin", "1234")).toBe("md545f2603610af569b6155c45067268c6b");
        expect(authSecret("md5", "admin", "1234", SCOPE)).toBe("md545f2603610af569b6155c45067268c6b");
    });

    it("refuse a non-ASCII or empty password", () => {
        expect(() => authSecret("md5", "admin", "pässword", SCOPE)).toThrow(/printable ASCII/);
        expect(() => authSecret("md5", "admin", "", SCOPE)).toThrow(/printable ASCII/);
    });
});

describe("SCRAM-SHA-256 verifiers", () => {
    it("match an independent computation for a fixed salt", () => {
        expect(scramSecret("webhook_receiver", "correct horse battery staple", Buffer.from([...Array(16).keys()]))).toBe(
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$ONYbSJBXtKl6bP6PVqw8pm9e7EiacprLnoUQPFS80Hw=:IPOtHuGJ2HifEQg74W2XXqqCrCyQG55GbPRHa6g6n9w=",
        );
    });

    it("match RFC 7677's example credentials, down to the server signature", () => {
        const verifier = scramSecret("user", "pencil", RFC7677_SALT);
        expect(verifier).toBe(RFC7677_VERIFIER);
        const signature = createHmac("sha256", parseScramVerifier(verifier).serverKey).update(RFC7677_AUTH_MESSAGE).digest("base64");
        expect(signature).toBe(RFC7677_SERVER_SIGNATURE);
    });

    it("are stable across calls for the same user and password", () => {
        expect(tierScram("webhook_receiver", "s3cret-pw")).toBe(tierScram("webhook_receiver", "s3cret-pw"));
        expect(tierScram("webhook_receiver", "s3cret-pw")).toBe(
            scramSecret("webhook_receiver", "s3cret-pw", scramSalt("webhook_receiver", SCOPE)),
        );
    });

    it("differ, salt included, between two users with the same password, and between servers", () => {
        const a = tierScram("webhook_receiver", "shared-pw");
        const b = tierScram("receiver_monitor", "shared-pw");
        expect(a).not.toBe(b);
        expect(parseScramVerifier(a).salt.equals(parseScramVerifier(b).salt)).toBe(false);
        expect(authSecret("scram-sha-256", "webhook_receiver", "shared-pw", "other-db:5432/deltacrown")).not.toBe(a);
    });

    it("take no salt from the password, which would let a guess be checked without PBKDF2", () => {
        const salt = (password: string) => parseScramVerifier(tierScram("webhook_receiver", password)).salt;
        expect(salt("first-password").equals(salt("second-password"))).toBe(true);
    });

    it("use 4096 iterations, a 16-byte salt and 32-byte keys, and prove the password", () => {
        expect(SCRAM_ITERATIONS).toBe(4096);
        const verifier = tierScram("webhook_receiver", "s3cret-pw");
        const parts = parseScramVerifier(verifier);
        expect(parts.iterations).toBe(4096);
        expect(parts.salt).toHaveLength(16);
        expect(parts.storedKey).toHaveLength(32);
        expect(parts.serverKey).toHaveLength(32);
        expect(scramVerifierAccepts(verifier, "s3cret-pw")).toBe(true);
        expect(scramVerifierAccepts(verifier, "s3cret-pW")).toBe(false);
    });

    it.each([
        ["non-ASCII letters", "pässwörd"],
        ["a non-breaking space, which SASLprep would map", "pass\u00a0word"],
        ["a control character", "pass\tword"],
        ["nothing", ""],
    ])("refuse a password of %s rather than hash it differently from PostgreSQL", (_what, password) => {
        expect(() => scramSecret("webhook_receiver", password, scramSalt("webhook_receiver", SCOPE))).toThrow(/printable ASCII/);
        expect(() => tierScram("webhook_receiver", password)).toThrow(/printable ASCII/);
    });
});
