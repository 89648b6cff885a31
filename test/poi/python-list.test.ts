import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePythonStringList } from "../../lib/poi";

test("parses Python list strings as pandas writes them", () => {
  assert.deepEqual(parsePythonStringList("['Escultura', 'Pintura']"), ["Escultura", "Pintura"]);
  assert.deepEqual(parsePythonStringList("[]"), []);
  assert.deepEqual(parsePythonStringList("  [ ]  "), []);
  assert.deepEqual(parsePythonStringList(`['Madrid', "Bernardo o'higgins", 'Gastronomía']`), ["Madrid", "Bernardo o'higgins", "Gastronomía"]);
  assert.deepEqual(parsePythonStringList(`['it\\'s', "say \\"hi\\""]`), ["it's", 'say "hi"']);
  assert.deepEqual(parsePythonStringList("['a, b', 'c']"), ["a, b", "c"]);
  assert.deepEqual(parsePythonStringList("['a',]"), ["a"]);
});

test("rejects what is not a list of strings, saying where", () => {
  for (const bad of ["", "Escultura", "['a'", "['a' 'b']", "[a]", "['a'] x", "['a', 3]", "[,]"]) {
    assert.throws(() => parsePythonStringList(bad), /not a Python list of strings/, bad);
  }
});
