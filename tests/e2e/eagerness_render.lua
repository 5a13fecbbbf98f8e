-- The Neovim plugin's snooze and eagerness parts, headless, without a server: `:TierlineSnooze`'s
-- argument, the ISO time read in local time (run with TZ=Asia/Kolkata, UTC+05:30, by
-- tests/e2e/test_eagerness.py), the statusline while snoozed, the default keymap and the command.
--
--   TZ=Asia/Kolkata nvim --headless -u NONE -l tests/e2e/eagerness_render.lua
vim.opt.rtp:prepend(assert(os.getenv("TIERLINE_PLUGIN"), "TIERLINE_PLUGIN is not set"))
local tap = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "lua_tap.lua")
local test = tap.test

local snooze = require("tierline.snooze")
local status = require("tierline.status")
local AT = "2026-12-03T11:45:00Z"
local AT_EPOCH = 1796298300 -- datetime(2026, 12, 3, 11, 45, tzinfo=timezone.utc).timestamp()

local function eq(expected, actual, what)
  if expected ~= actual then
    error(("%s: expected %s, got %s"):format(what, vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

test(":TierlineSnooze's argument: none is 5 minutes, 0 resumes, the rest is refused here", function()
  eq(5, snooze.parse(""), "no argument")
  eq(10, snooze.parse(" 10 "), "10")
  eq(0, snooze.parse("0"), "0")
  eq(1440, snooze.parse("1440"), "a day")
  for _, bad in ipairs({ "-1", "abc", "1e9", "nan", "1441" }) do
    local minutes, problem = snooze.parse(bad)
    eq(nil, minutes, bad)
    assert(problem:find("takes minutes from 0 %(resume%) to 1440"), problem)
  end
end)

test("snoozed_until is read as UTC and shown in local time", function()
  eq(AT_EPOCH, snooze.epoch(AT), "epoch")
  eq(nil, snooze.epoch(vim.NIL), "null")
  eq(nil, snooze.epoch("soon"), "not a time")
  eq("snoozed until 17:15", snooze.label(AT, AT_EPOCH - 60), "Asia/Kolkata is UTC+05:30")
  eq(nil, snooze.label(AT, AT_EPOCH), "ended")
  eq(nil, snooze.label(vim.NIL, AT_EPOCH - 60), "not snoozed")
end)

test("the statusline leads with the snooze while it lasts", function()
  status.state.tier, status.state.model = "cheap", "deepseek-v4-flash"
  status.on_stats({ snoozed_until = "2099-01-01T00:00:00Z", today = { spend_usd = 0.0021 } })
  local line = status.render()
  assert(line:match("^snoozed until %d%d:%d%d · cheap·deepseek%-v4%-flash %$0%.0021$"), line)
  status.on_stats({ snoozed_until = vim.NIL, today = { spend_usd = 0.0021 } })
  eq("cheap·deepseek-v4-flash $0.0021", status.render(), "after resuming")
  status.on_stats({ snoozed_until = "2000-01-01T00:00:00Z" })
  eq("cheap·deepseek-v4-flash $0.0021", status.render(), "a snooze that has ended")
end)

test(":TierlineStats says until when, only while snoozed", function()
  local function snooze_lines(stats)
    return vim.tbl_filter(function(l)
      return vim.startswith(l, "Snooze  ")
    end, require("tierline.stats").format(stats, nil))
  end
  local lines = snooze_lines({ snoozed_until = "2099-01-01T00:00:00Z" })
  eq(1, #lines, "one line")
  assert(lines[1]:match("^Snooze  automatic suggestions snoozed until %d%d:%d%d %(:TierlineSnooze 0 resumes%)$"), lines[1])
  eq(0, #snooze_lines({ snoozed_until = vim.NIL }), "not snoozed")
end)

test("the default snooze key and the command", function()
  eq("<M-z>", require("tierline.config").defaults.keymaps.snooze, "keymaps.snooze")
  require("tierline.commands").create()
  local command = vim.api.nvim_get_commands({})["TierlineSnooze"]
  assert(command, "no :TierlineSnooze")
  eq("?", command.nargs, "nargs")
  eq(5, snooze.DEFAULT_MINUTES, "the server's default")
end)

tap.finish()
