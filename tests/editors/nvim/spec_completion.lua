-- Ghost text, accept, typing-through, partial accepts and dismissal against the real server.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  local bufnr, client = H.start()
  local tierline = require("tierline")
  local options = require("tierline.config").options

  H.test("server negotiated a position encoding", function()
    H.truthy(client.offset_encoding == "utf-8" or client.offset_encoding == "utf-16", "encoding " .. tostring(client.offset_encoding))
  end)

  local routes = H.collect_routes()

  H.test("typing shows ghost text (extmark with tl_) and <Tab> inserts it", function()
    local row = H.new_line(bufnr)
    H.feed("value = ")
    local ghost = H.wait_ghost(bufnr)
    local _, mark = H.ghost(bufnr)
    H.eq(row, mark[2], "extmark row")
    H.eq(#"value = ", mark[3], "extmark column (at the cursor)")
    H.eq("inline", mark[4].virt_text_pos, "virt_text_pos")
    H.truthy(#routes >= 1, "a tierline/didRoute notification arrived")
    H.truthy(routes[#routes].tier and routes[#routes].model, "didRoute has tier and model")
    H.feed("<Tab>")
    local expected = "value = " .. ghost
    H.wait_line(bufnr, row, expected)
    H.eq({ row + 1, #expected }, vim.api.nvim_win_get_cursor(0), "cursor after the inserted text")
  end)

  H.test("statusline shows tier, model and today's spend", function()
    local s = H.wait(5000, function()
      local v = tierline.statusline()
      return v:match("^%a+·[%w%.%-]+ %$%d+%.%d%d%d%d$") and v or nil
    end, "a statusline like cheap·deepseek-v4-flash $0.0021")
    local last = routes[#routes]
    H.truthy(s:find(last.tier .. "·" .. last.model, 1, true), "statusline " .. s .. " names the last route")
  end)

  H.test("typing through keeps the rest of the suggestion visible", function()
    local row = H.new_line(bufnr)
    H.feed("total = ")
    local ghost = H.wait_ghost(bufnr)
    local typed = ghost:sub(1, 5)
    H.feed(typed)
    H.wait_line(bufnr, row, "total = " .. typed, "the typed characters")
    H.eq(ghost:sub(6), H.ghost(bufnr), "ghost text after typing through")
    local _, mark = H.ghost(bufnr)
    H.eq(#"total = " + 5, mark[3], "ghost moved to the cursor")
    -- <Tab> inserts the remainder only.
    H.feed("<Tab>")
    H.wait_line(bufnr, row, "total = " .. ghost, "the whole suggestion in the line")
  end)

  H.test("a keystroke that does not match dismisses", function()
    local row = H.new_line(bufnr)
    H.feed("other = ")
    local ghost = H.wait_ghost(bufnr)
    options.auto_trigger = false -- no new suggestion may replace the one we look at
    local wrong = ghost:sub(1, 1) == "Z" and "Y" or "Z"
    H.feed(wrong)
    H.wait_line(bufnr, row, "other = " .. wrong, "the typed character")
    H.eq(nil, H.ghost(bufnr), "ghost text after a non-matching key")
    H.eq(false, tierline.is_visible(), "is_visible()")
    options.auto_trigger = true
  end)

  H.test("<Tab> falls through to a normal <Tab> when nothing is shown", function()
    options.auto_trigger = false
    local row = H.new_line(bufnr)
    H.feed("x<Tab>")
    H.wait(5000, function()
      return H.line(bufnr, row) ~= "x"
    end, "the <Tab> to be typed")
    local line = H.line(bufnr, row)
    H.truthy(line == "x\t" or line:match("^x +$"), "line after <Tab> is " .. vim.inspect(line))
    options.auto_trigger = true
  end)

  H.test("accept word, then accept line", function()
    local row = H.new_line(bufnr)
    H.feed("count = ")
    local ghost = H.wait_ghost(bufnr)
    local word = ghost:match("^%s*[%w_]+")
    H.truthy(word and #word < #ghost, "suggestion " .. ghost .. " has a first word")
    H.feed("<M-w>")
    H.wait_line(bufnr, row, "count = " .. word, "the first word inserted")
    H.eq(ghost:sub(#word + 1), H.ghost(bufnr), "the rest stays visible")
    H.feed("<M-l>")
    H.wait_line(bufnr, row, "count = " .. ghost, "the rest of the line inserted")
  end)

  H.test("a multi-line suggestion uses virt_lines and <Tab> inserts all lines", function()
    local row = H.new_line(bufnr)
    H.feed("if ready:")
    local ghost = H.wait_ghost(bufnr)
    H.truthy(ghost:find("\n", 1, true), "suggestion after ':' spans lines: " .. vim.inspect(ghost))
    local _, mark = H.ghost(bufnr)
    H.truthy(mark[4].virt_lines and #mark[4].virt_lines >= 1, "virt_lines present")
    local lines = vim.split(ghost, "\n", { plain = true })
    H.feed("<Tab>")
    H.wait_line(bufnr, row + #lines - 1, lines[#lines], "the last suggested line in the buffer")
    H.eq("if ready:" .. lines[1], H.line(bufnr, row), "first line")
  end)

  H.test("<Esc> dismisses", function()
    H.new_line(bufnr)
    H.feed("name = ")
    H.wait_ghost(bufnr)
    H.to_normal()
    H.eq(nil, H.ghost(bufnr), "ghost text in normal mode")
  end)

  H.test("moving the cursor dismisses", function()
    H.new_line(bufnr)
    H.feed("size = ")
    H.wait_ghost(bufnr)
    H.feed("<Left>")
    H.wait(5000, function()
      return H.ghost(bufnr) == nil
    end, "the ghost text to go")
    H.eq(false, tierline.is_visible(), "is_visible()")
  end)

  H.test("the server showed no error message", function()
    H.no_server_errors()
  end)

  H.to_normal()
end)
