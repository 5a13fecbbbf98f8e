-- Tiny harness for the tierline specs: each spec runs in a coroutine so that the editor's main
-- loop keeps running (typed keys are processed, LSP answers arrive) while a spec waits.
-- `wait` polls a condition with a deadline; nothing sleeps for a fixed time.
local H = {}

H.failures = 0
H.passed = 0

local function out(line)
  io.stdout:write(line .. "\n")
  io.stdout:flush()
end
H.out = out

local function env(name)
  local v = os.getenv(name)
  if not v or v == "" then
    error("environment variable " .. name .. " is not set (run the specs through test_nvim.py)")
  end
  return v
end
H.env = env

--- Poll `pred` every 10 ms until it returns a truthy value or `ms` pass. Yields to the main loop.
--- Raises "timed out waiting for <what>" on the deadline.
function H.wait(ms, pred, what)
  local co = coroutine.running()
  assert(co, "H.wait must run inside H.run")
  local deadline = vim.uv.now() + ms
  local timer = vim.uv.new_timer()
  local result
  timer:start(0, 10, vim.schedule_wrap(function()
    if timer:is_closing() then
      return
    end
    local ok, v = pcall(pred)
    if (ok and v) or vim.uv.now() > deadline then
      timer:stop()
      timer:close()
      result = ok and v or nil
      coroutine.resume(co)
    end
  end))
  coroutine.yield()
  if not result then
    error("timed out after " .. ms .. " ms waiting for " .. (what or "a condition"), 2)
  end
  return result
end

--- Let the main loop process pending typeahead and events once.
function H.tick()
  local co = coroutine.running()
  vim.schedule(function()
    coroutine.resume(co)
  end)
  coroutine.yield()
end

--- Type keys as the user would (mappings apply).
function H.feed(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), "mt", false)
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(("%s: expected %s, got %s"):format(what or "value", vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error((what or "condition") .. " is false", 2)
  end
  return v
end

function H.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    H.passed = H.passed + 1
    out("ok - " .. name)
  else
    H.failures = H.failures + 1
    out("not ok - " .. name)
    for line in tostring(err):gmatch("[^\n]+") do
      out("#   " .. line)
    end
  end
end

--- Run `main` in a coroutine after startup; exit with 0 when every test passed.
function H.run(main, overall_ms)
  overall_ms = overall_ms or 90000
  local guard = vim.uv.new_timer()
  guard:start(overall_ms, 0, vim.schedule_wrap(function()
    out("not ok - the spec did not finish within " .. overall_ms .. " ms")
    os.exit(3)
  end))
  vim.schedule(function()
    local co = coroutine.create(function()
      local ok, err = xpcall(main, debug.traceback)
      if not ok then
        H.failures = H.failures + 1
        out("not ok - spec crashed")
        for line in tostring(err):gmatch("[^\n]+") do
          out("#   " .. line)
        end
      end
      out(("# %d passed, %d failed"):format(H.passed, H.failures))
      pcall(function()
        for _, c in ipairs(vim.lsp.get_clients()) do
          if c.stop then
            c:stop(true)
          end
        end
      end)
      os.exit(H.failures == 0 and 0 or 1)
    end)
    local ok, err = coroutine.resume(co)
    if not ok then
      out("not ok - spec could not start: " .. tostring(err))
      os.exit(2)
    end
  end)
end

--- The editor options every spec runs with, and the plugin loaded as Neovim loads it at startup.
function H.load_plugin()
  vim.o.showmode = false
  vim.o.swapfile = false
  vim.o.shortmess = vim.o.shortmess .. "I"
  vim.cmd("filetype on")
  vim.cmd("runtime plugin/tierline.lua")
end

--- Open the sample Python file (TIERLINE_TEST_FILE); its buffer.
function H.open_sample()
  vim.cmd.edit(vim.fn.fnameescape(env("TIERLINE_TEST_FILE")))
  local bufnr = vim.api.nvim_get_current_buf()
  H.eq("python", vim.bo[bufnr].filetype, "filetype")
  return bufnr
end

--- Wait for an initialized tierline client on `bufnr` (one other than `old`, after a restart).
---@return vim.lsp.Client client
function H.wait_client(bufnr, what, old)
  return H.wait(20000, function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = "tierline" })[1]
    return c and c.initialized and (not old or c.id ~= old.id) and c or nil
  end, what or "the tierline server to start and attach")
end

--- Load the plugin the way a user would, open the test file and wait for the server.
---@param opts? table extra setup() options
---@return integer bufnr, vim.lsp.Client client
function H.start(opts)
  H.load_plugin()
  -- Record what the server shows the user (a refused config arrives as an Error message).
  H.messages = {}
  local show = vim.lsp.handlers["window/showMessage"]
  vim.lsp.handlers["window/showMessage"] = function(err, result, ctx, config)
    H.messages[#H.messages + 1] = result
    return show(err, result, ctx, config)
  end
  local setup = vim.tbl_deep_extend("force", {
    cmd = { env("TIERLINE_SERVER"), "serve" },
  }, opts or {})
  require("tierline").setup(setup)
  local bufnr = H.open_sample()
  return bufnr, H.wait_client(bufnr)
end

--- The tierline ghost text drawn in `bufnr`: the concatenated virtual text (first line, then
--- "\n" and each virtual line), or nil when nothing is drawn.
function H.ghost(bufnr)
  local ns = require("tierline.ghost").ns
  local marks = vim.api.nvim_buf_get_extmarks(bufnr or 0, ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local d = marks[1][4]
  local text = ""
  for _, chunk in ipairs(d.virt_text or {}) do
    text = text .. chunk[1]
  end
  for _, vl in ipairs(d.virt_lines or {}) do
    text = text .. "\n"
    for _, chunk in ipairs(vl) do
      text = text .. chunk[1]
    end
  end
  return text, marks[1]
end

--- Wait for ghost text containing `needle` (default "tl_").
function H.wait_ghost(bufnr, needle, ms)
  needle = needle or "tl_"
  return H.wait(ms or 15000, function()
    local g = H.ghost(bufnr)
    return g and g:find(needle, 1, true) and g or nil
  end, "ghost text containing " .. needle)
end

--- No error messages from the server so far.
function H.no_server_errors()
  for _, m in ipairs(H.messages or {}) do
    if m.type == 1 then
      error("the server showed an error: " .. tostring(m.message), 2)
    end
  end
end

--- Wait until line `row` (0-based) of `bufnr` reads `expected`.
function H.wait_line(bufnr, row, expected, what)
  H.wait(5000, function()
    return H.line(bufnr, row) == expected
  end, what or ("the line to become " .. vim.inspect(expected)))
end

--- On a new line, type `typed`, wait for the suggestion and accept it with <Tab>; ghost, row.
function H.type_and_accept(bufnr, typed)
  local row = H.new_line(bufnr)
  H.feed(typed)
  local ghost = H.wait_ghost(bufnr)
  H.feed("<Tab>")
  H.wait_line(bufnr, row, typed .. ghost, "the suggestion inserted")
  return ghost, row
end

--- Leave insert mode and wait for normal mode.
function H.to_normal()
  H.feed("<Esc>")
  H.wait(5000, function()
    return vim.api.nvim_get_mode().mode == "n"
  end, "normal mode")
end

--- Open a new empty line below the last one and enter insert mode there.
function H.new_line(bufnr)
  H.to_normal()
  local n = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, n, n, false, { "" })
  vim.api.nvim_win_set_cursor(0, { n + 1, 0 })
  H.feed("i")
  H.wait(5000, function()
    return vim.api.nvim_get_mode().mode == "i"
  end, "insert mode")
  return n -- 0-based row of the new line
end

function H.line(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
end

--- Run an Ex command that opens a float, wait for it; its window and lines (echoed to the TAP output).
function H.float(command, what)
  vim.cmd(command)
  local win = H.wait(10000, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        return w
      end
    end
  end, what)
  local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
  H.out("# " .. what .. ":")
  for _, l in ipairs(lines) do
    H.out("#   " .. l)
  end
  return win, lines
end

--- `q` in a float closes it.
function H.close_with_q(win)
  vim.api.nvim_set_current_win(win)
  H.feed("q")
  H.wait(5000, function()
    return not vim.api.nvim_win_is_valid(win)
  end, "q to close the float")
end

--- The server's `tierline.stats` (through the plugin's `stats()`), waited for; an error fails.
function H.stats()
  local got
  require("tierline").stats(function(err, result)
    got = err and { error = err } or result
  end)
  local result = H.wait(10000, function()
    return got
  end, "tierline.stats")
  if result.error then
    error("tierline.stats failed: " .. vim.inspect(result.error), 2)
  end
  return result
end

--- Ask `tierline.stats` again each time an answer arrives, until one satisfies `pred`; that one.
function H.stats_until(pred, what)
  local latest, pending = nil, false
  return H.wait(10000, function()
    if latest and not latest.error and pred(latest) then
      return latest
    end
    if not pending then
      pending = true
      require("tierline").stats(function(err, result)
        latest, pending = err and { error = err } or result, false
      end)
    end
  end, what)
end

--- :TierlineStats's float.
function H.stats_float()
  return H.float("TierlineStats", "the stats float")
end

--- Every `TierlineDidRoute` event's data, appended as they come.
function H.collect_routes()
  local routes = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = "TierlineDidRoute",
    callback = function(args)
      routes[#routes + 1] = args.data
    end,
  })
  return routes
end

return H
