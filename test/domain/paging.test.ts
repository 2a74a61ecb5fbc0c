import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import { decodePageToken, encodePageToken, validateMaxResults } from "../../src/domain/paging";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("page tokens", () => {
  it.each([0, 1, 2, 99, 100, 1000, 123_456, 200_000])("round-trips offset %i", (offset) => {
    expect(decodePageToken(encodePageToken(offset))).toBe(offset);
  });

  it("is opaque: the token is not the bare offset", () => {
    expect(encodePageToken(42)).not.toBe("42");
    expect(encodePageToken(42)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it.each([undefined, ""])("starts at offset 0 without a token (%j)", (token) => {
    expect(decodePageToken(token)).toBe(0);
  });

  it.each([
    ["not base64", "not a token!"],
    ["base64 of text that is not JSON", btoa("hello")],
    ["JSON null", btoa("null")],
    ["JSON without an offset", btoa("{}")],
    ["a negative offset", btoa(JSON.stringify({ offset: -1 }))],
    ["a fractional offset", btoa(JSON.stringify({ offset: 1.5 }))],
    ["an offset given as text", btoa(JSON.stringify({ offset: "3" }))],
    ["an offset beyond safe integers", btoa(JSON.stringify({ offset: 2 ** 60 }))],
    ["a JSON array", btoa("[1]")],
  ])("rejects %s as INVALID_PARAMETER_VALUE naming the token", (_what, token) => {
    const error = thrown(() => decodePageToken(token));
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
    expect((error as Error).message).toBe(`Invalid page token: '${token}'.`);
  });

  it("names a long token by its first 64 characters only", () => {
    const token = `${"x".repeat(64)}${"y".repeat(100_000)}`;
    const error = thrown(() => decodePageToken(token));
    expect((error as Error).message).toBe(`Invalid page token: '${"x".repeat(64)}…'.`);
  });
});

describe("max_results", () => {
  it.each<[number | undefined, number, number, number]>([
    [undefined, 100, 1000, 100],
    [undefined, 10_000, 200_000, 10_000],
    [1, 100, 1000, 1],
    [999, 100, 1000, 999],
    [1000, 100, 1000, 1000],
    [200_000, 10_000, 200_000, 200_000],
  ])("accepts %j (default %i, max %i) as %i", (input, fallback, max, expected) => {
    expect(validateMaxResults(input, fallback, max)).toBe(expected);
  });

  it.each<[number, number]>([
    [0, 1000],
    [-1, 1000],
    [1001, 1000],
    [200_001, 200_000],
    [2.5, 1000],
    [Number.NaN, 1000],
    [Number.POSITIVE_INFINITY, 1000],
  ])("rejects %j (max %i) as INVALID_PARAMETER_VALUE naming max_results", (input, max) => {
    const error = thrown(() => validateMaxResults(input, 100, max));
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
    expect((error as Error).message).toContain("'max_results'");
    expect((error as Error).message).toContain(String(max));
  });
});
