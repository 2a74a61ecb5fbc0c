import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import {
  isPromptModel,
  isPromptRequest,
  likeToGlob,
  parseSearchFilter,
  promptScope,
  PROMPT_TAG,
  type Condition,
  type SearchEntity,
} from "../../src/domain/search-filter";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

const attr = (key: string, comparator: Condition["comparator"], value: string | number | string[]): Condition =>
  typeof value === "number"
    ? { kind: "attribute", key, type: "number", comparator, value }
    : { kind: "attribute", key, type: "string", comparator, value };
const tag = (key: string, comparator: Condition["comparator"], value: string): Condition => ({
  kind: "tag",
  key,
  comparator,
  value,
});

describe("search filter parsing", () => {
  it.each<[SearchEntity, string | undefined]>([
    ["registered_model", undefined],
    ["registered_model", ""],
    ["model_version", "   "],
  ])("reads an absent or blank filter as no conditions (%s, %j)", (entity, filter) => {
    expect(parseSearchFilter(filter, entity)).toEqual([]);
  });

  describe.each<SearchEntity>(["registered_model", "model_version"])(
    "conditions both entities accept (%s)",
    (entity) => {
      it.each<[string, Condition[]]>([
        ["name = 'm'", [attr("name", "=", "m")]],
        ['name = "m"', [attr("name", "=", "m")]],
        ["name='m'", [attr("name", "=", "m")]],
        ["name == 'm'", [attr("name", "=", "m")]],
        ["name != 'm'", [attr("name", "!=", "m")]],
        ["name LIKE 'ab%'", [attr("name", "LIKE", "ab%")]],
        ["name like 'ab%'", [attr("name", "LIKE", "ab%")]],
        ["name ILIKE '%AB_'", [attr("name", "ILIKE", "%AB_")]],
        ["name ilike '%ab'", [attr("name", "ILIKE", "%ab")]],
        ["attributes.name = 'm'", [attr("name", "=", "m")]],
        ["name = 'with space and \"double\" quotes'", [attr("name", "=", 'with space and "double" quotes')]],
        ["name = ''", [attr("name", "=", "")]],
        ["tags.team = 'pricing'", [tag("team", "=", "pricing")]],
        ["tag.team = 'pricing'", [tag("team", "=", "pricing")]],
        ["tags.`key with space` = 'v'", [tag("key with space", "=", "v")]],
        ["tags.`mlflow.prompt.is_prompt` = 'true'", [tag("mlflow.prompt.is_prompt", "=", "true")]],
        ["tags.mlflow.prompt.is_prompt = 'true'", [tag("mlflow.prompt.is_prompt", "=", "true")]],
        ["tags.team != 'x'", [tag("team", "!=", "x")]],
        ["tags.team LIKE 'pri%'", [tag("team", "LIKE", "pri%")]],
        ["tags.team ILIKE 'PRI%'", [tag("team", "ILIKE", "PRI%")]],
        ["name LIKE 'a%' AND tags.team = 'x'", [attr("name", "LIKE", "a%"), tag("team", "=", "x")]],
        [
          "name LIKE 'a%' and tags.team = 'x' AnD name != 'ab'",
          [attr("name", "LIKE", "a%"), tag("team", "=", "x"), attr("name", "!=", "ab")],
        ],
      ])("reads %j", (filter, expected) => {
        expect(parseSearchFilter(filter, entity)).toEqual(expected);
      });
    },
  );

  it.each<[string, Condition[]]>([
    ["version_number > 3", [attr("version_number", ">", 3)]],
    ["version_number >= 3", [attr("version_number", ">=", 3)]],
    ["version_number < 3", [attr("version_number", "<", 3)]],
    ["version_number <= 3", [attr("version_number", "<=", 3)]],
    ["version_number = 3", [attr("version_number", "=", 3)]],
    ["version_number != 3", [attr("version_number", "!=", 3)]],
    ["version_number>3", [attr("version_number", ">", 3)]],
    ["run_id = 'abc'", [attr("run_id", "=", "abc")]],
    ["run_id IN ('a', 'b')", [attr("run_id", "IN", ["a", "b"])]],
    ["run_id IN ('a','b','c')", [attr("run_id", "IN", ["a", "b", "c"])]],
    ['run_id in ("a")', [attr("run_id", "IN", ["a"])]],
    ["run_id NOT IN ('a')", [attr("run_id", "NOT IN", ["a"])]],
    [
      "source_path = 'mlflow-artifacts:/0/r/artifacts/m'",
      [attr("source_path", "=", "mlflow-artifacts:/0/r/artifacts/m")],
    ],
    ["source_path LIKE '%/m'", [attr("source_path", "LIKE", "%/m")]],
    [
      "name = 'm' AND version_number > 3 AND tags.`my key` LIKE 'x%' AND run_id IN ('a', 'b')",
      [
        attr("name", "=", "m"),
        attr("version_number", ">", 3),
        tag("my key", "LIKE", "x%"),
        attr("run_id", "IN", ["a", "b"]),
      ],
    ],
  ])("reads the model-version filter %j", (filter, expected) => {
    expect(parseSearchFilter(filter, "model_version")).toEqual(expected);
  });

  it.each<[SearchEntity, string, string[]]>([
    ["registered_model", "name = 'a' OR name = 'b'", ["OR is not supported"]],
    ["model_version", "version_number = 1 or version_number = 2", ["OR is not supported"]],
    ["registered_model", "version_number > 3", ["unsupported attribute 'version_number'"]],
    ["registered_model", "run_id = 'a'", ["unsupported attribute 'run_id'"]],
    ["registered_model", "foo = 'x'", ["unsupported attribute 'foo'"]],
    ["model_version", "current_stage = 'Production'", ["unsupported attribute 'current_stage'"]],
    ["model_version", "version_number = 'abc'", ["'version_number'", "'abc'"]],
    ["model_version", "version_number = ''", ["'version_number'"]],
    ["model_version", "version_number LIKE '1%'", ["'LIKE' is not supported for 'version_number'"]],
    ["model_version", "version_number IN ('1')", ["'IN' is not supported for 'version_number'"]],
    ["registered_model", "name > 'a'", ["'>' is not supported for 'name'"]],
    ["registered_model", "name IN ('a')", ["'IN' is not supported for 'name'"]],
    ["model_version", "tags.k > 'a'", ["'>' is not supported for tags"]],
    ["model_version", "tags.k IN ('a')", ["'IN' is not supported for tags"]],
    ["model_version", "tags.k = 3", ["tag 'k' must be compared with a quoted string"]],
    ["registered_model", "name = 3", ["'name' must be compared with a quoted string"]],
    ["model_version", "run_id IN 'a'", ["IN expects a parenthesised list"]],
    ["model_version", "run_id IN ('a', 3)", ["IN expects a parenthesised list of quoted strings"]],
    ["model_version", "run_id IN ('a' 'b')", ["unterminated IN list"]],
    ["registered_model", "name = 'unterminated", ["unterminated quote"]],
    ["registered_model", "name 'x'", ["expected a comparison operator", "'x'"]],
    ["registered_model", "name =", ["expected a quoted string or a number", "end of filter"]],
    ["registered_model", "name = 'a' name = 'b'", ["expected AND", "'name'"]],
    ["registered_model", "name = 'a' AND", ["expected an attribute or tag name"]],
    ["registered_model", "(name = 'a')", ["expected an attribute or tag name"]],
    ["registered_model", "name ! 'a'", ["unexpected '!'"]],
    ["registered_model", "@@@", ["unexpected character '@'"]],
    ["registered_model", "tags. = 'x'", ["tag key is empty"]],
    ["registered_model", "'name' = 'x'", ["expected an attribute or tag name"]],
  ])("rejects %s filter %j as INVALID_PARAMETER_VALUE naming the part", (entity, filter, fragments) => {
    const error = thrown(() => parseSearchFilter(filter, entity));
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
    expect((error as Error).message.startsWith("Invalid filter: ")).toBe(true);
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
  });
});

describe("quoted keys", () => {
  // MLflow strips double quotes as well as backticks from keys (SearchUtils._get_identifier:
  // `_trim_backticks(_strip_quotes(key))`, "Keys containing special characters are also expected to
  // be enclosed in quotes").
  it.each<SearchEntity>(["registered_model", "model_version"])(
    "reads a double-quoted tag key as MLflow does (%s)",
    (entity) => {
      expect(parseSearchFilter(`tags."key with space" = 'v'`, entity)).toEqual([tag("key with space", "=", "v")]);
    },
  );
});

describe("LIKE patterns as case-sensitive GLOB patterns", () => {
  it.each<[string, string]>([
    ["", ""],
    ["abc", "abc"],
    ["abc%", "abc*"],
    ["%abc%", "*abc*"],
    ["a_c", "a?c"],
    ["a%b_c", "a*b?c"],
    ["a*b", "a[*]b"],
    ["a?b", "a[?]b"],
    ["a[b", "a[[]b"],
    ["Mixed-Case.Name", "Mixed-Case.Name"],
  ])("turns %j into %j", (like, glob) => {
    expect(likeToGlob(like)).toBe(glob);
  });
});

describe("prompt scope (MLflow 3.5.1's _is_querying_prompt)", () => {
  const scope = (filter: string) => promptScope(parseSearchFilter(filter, "registered_model"));
  const name = attr("name", "LIKE", "p%");

  it.each<[string, boolean, Condition[]]>([
    // The 3.x client appends this to every model and version search: models only, the condition dropped.
    ["name LIKE 'p%' AND tag.`mlflow.prompt.is_prompt` != 'true'", false, [name]],
    ["name LIKE 'p%'", false, [name]],
    ["tags.`mlflow.prompt.is_prompt` = 'false' AND name LIKE 'p%'", false, [name]],
    ["tags.`mlflow.prompt.is_prompt` LIKE 'true' AND name LIKE 'p%'", false, [name]],
    ["tags.`mlflow.prompt.is_prompt` = 'yes' AND name LIKE 'p%'", false, [name]],
    // search_prompts sends = 'true' first; != 'false' asks for prompts too; the value's case does not matter.
    ["tags.`mlflow.prompt.is_prompt` = 'true' AND name LIKE 'p%'", true, [tag(PROMPT_TAG, "=", "true"), name]],
    ["name LIKE 'p%' AND tags.`mlflow.prompt.is_prompt` != 'FALSE'", true, [name, tag(PROMPT_TAG, "!=", "FALSE")]],
    ["tags.`mlflow.prompt.is_prompt` = 'True' AND name LIKE 'p%'", true, [tag(PROMPT_TAG, "=", "True"), name]],
    // Only the first condition on the tag decides, as in MLflow.
    [
      "tags.`mlflow.prompt.is_prompt` = 'true' AND tags.`mlflow.prompt.is_prompt` != 'true'",
      true,
      [tag(PROMPT_TAG, "=", "true"), tag(PROMPT_TAG, "!=", "true")],
    ],
    ["tags.`mlflow.prompt.is_prompt` != 'true' AND tags.`mlflow.prompt.is_prompt` = 'true'", false, []],
  ])("reads %s as prompts=%s", (filter, prompts, conditions) => {
    expect(scope(filter)).toEqual({ prompts, conditions });
  });

  it("leaves conditions on other tags alone, != included", () => {
    expect(scope("tags.team != 'a' AND tags.`mlflow.prompt.is_prompt` != 'true'")).toEqual({
      prompts: false,
      conditions: [tag("team", "!=", "a")],
    });
  });
});

describe("what makes a model a prompt (MLflow's _is_prompt and _is_prompt_request)", () => {
  it.each<[string, string | undefined, boolean]>([
    ["'true'", "true", true],
    ["'TRUE' (any case)", "TRUE", true],
    ["'false'", "false", false],
    ["'yes'", "yes", false],
    ["no prompt tag", undefined, false],
  ])("a model whose prompt tag is %s is a prompt: %s", (_what, value, expected) => {
    const tags = new Map<string, string>([["team", "a"]]);
    if (value !== undefined) tags.set(PROMPT_TAG, value);
    expect(isPromptModel(tags)).toBe(expected);
  });

  it("takes a create request with the prompt tag as a prompt's, whatever its value", () => {
    expect(isPromptRequest([{ key: PROMPT_TAG }])).toBe(true);
    expect(isPromptRequest([{ key: "team" }, { key: PROMPT_TAG }])).toBe(true);
    expect(isPromptRequest([{ key: "team" }])).toBe(false);
    expect(isPromptRequest([])).toBe(false);
  });
});
