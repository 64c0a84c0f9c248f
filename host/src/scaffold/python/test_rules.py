import unittest

import rules


class TodoTest(unittest.TestCase):
    def test_a_todo_without_an_issue_is_reported_on_its_line(self):
        text = "x = 1\n# TODO: handle errors\n# TODO(#12): tracked\nTODOS = []\n"
        self.assertEqual([line for line, _ in rules.todos(text)], [2])

    def test_lines_are_counted_as_the_host_counts_them(self):
        text = "a\fb\r\n# TODO: x\n"
        self.assertEqual([line for line, _ in rules.todos(text)], [2])

    def test_config_is_checked(self):
        self.assertTrue(rules.Settings.from_json("{}").wants("a/b.py"))
        self.assertFalse(rules.Settings.from_json('{"extensions": [".rs"]}').wants("a.py"))
        with self.assertRaises(ValueError):
            rules.Settings.from_json('{"extension": [".rs"]}')


if __name__ == "__main__":
    unittest.main()
