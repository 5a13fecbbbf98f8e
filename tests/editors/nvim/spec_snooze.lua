-- :TierlineSnooze 5 snoozes automatic suggestions: the statusline and tierline.stats say until
-- when, typing draws nothing and asks no model, the trigger key still answers; the snooze key
-- (<M-z>) resumes.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  local bufnr = H.start()
  local tierline = require("tierline")
  local routes = H.collect_routes()

  H.test(":TierlineSnooze 5: the statusline and tierline.stats say until when", function()
    local before = os.time()
    vim.cmd("TierlineSnooze 5")
    local line = H.wait(10000, function()
      local s = tierline.statusline()
      return s:match("^snoozed until %d%d:%d%d · ") and s or nil
    end, "the statusline to say snoozed until HH:MM")
    local stats = H.stats()
    local ends = require("tierline.snooze").epoch(stats.snoozed_until)
    H.truthy(ends and ends >= before + 299 and ends <= os.time() + 300, "snoozed_until five minutes on: " .. tostring(stats.snoozed_until))
    H.eq("snoozed until " .. os.date("%H:%M", ends), line:match("^(snoozed until %d%d:%d%d)"), "the statusline's time")
  end)

  H.test("typing while snoozed draws nothing and routes nothing", function()
    local before = #routes
    H.new_line(bufnr)
    H.feed("snoozed = ")
    -- The server answers each automatic request with nothing; a routed request would notify.
    local answered = 0
    local id = vim.api.nvim_create_autocmd("LspRequest", {
      callback = function(args)
        if args.data and args.data.request and args.data.request.type == "complete"
          and args.data.request.method == "textDocument/inlineCompletion" then
          answered = answered + 1
        end
      end,
    })
    H.feed("x")
    H.wait(10000, function()
      return answered >= 1
    end, "an automatic request to be answered")
    vim.api.nvim_del_autocmd(id)
    H.eq(nil, H.ghost(bufnr), "no ghost text")
    H.eq(before, #routes, "no tierline/didRoute")
  end)

  H.test("the trigger key still asks, and is answered", function()
    H.feed("<M-\\>")
    H.wait_ghost(bufnr)
    H.feed("<C-]>")
    H.to_normal()
  end)

  H.test("the snooze key resumes", function()
    H.new_line(bufnr)
    H.feed("<M-z>")
    H.wait(10000, function()
      return not tierline.statusline():find("snoozed", 1, true)
    end, "the statusline without the snooze")
    H.feed("resumed = ")
    H.wait_ghost(bufnr)
    H.to_normal()
    H.no_server_errors()
  end)
end)
