--- Ghost text for Neovim 0.10 / 0.11 (no `vim.lsp.inline_completion`):
--- `textDocument/inlineCompletion` requests while typing (the server waits), drawn with extmarks.
local api = vim.api
local lsp = require("tierline.lsp")

local M = {}

M.ns = api.nvim_create_namespace("tierline.ghost")

local TRIGGER_INVOKED = 1
local TRIGGER_AUTOMATIC = 2
local REQUEST_CANCELLED = -32800

---@class tierline.Suggestion
---@field row integer 0-based row of the cursor the text is inserted at
---@field col integer 0-based byte column of that cursor
---@field text string what is still to be inserted at (row, col)
---@field suffix_len integer bytes after the cursor that a full accept replaces (the item's range end)
---@field tick integer b:changedtick when drawn
---@field extmark integer?
---@field client_id integer
---@field item table the raw InlineCompletionItem

---@class tierline.BufState
---@field bufnr integer
---@field timer uv.uv_timer_t?
---@field seq integer
---@field inflight {client_id: integer, id: integer, seq: integer}?
---@field sugg tierline.Suggestion?
---@field items tierline.Suggestion[] every item of the last answer (alternatives of an invoked request)
---@field index integer which of `items` is shown
---@field augroup integer

---@type table<integer, tierline.BufState>
M.states = {}

local function tick(bufnr)
  return api.nvim_buf_get_changedtick(bufnr)
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert()
  local m = api.nvim_get_mode().mode
  return m:sub(1, 1) == "i"
end

local function options()
  return require("tierline.config").options
end

--- Byte column of an LSP position on `row`.
local function byte_col(bufnr, row, character, encoding)
  if encoding == "utf-8" then
    return character
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local ok, col = pcall(vim.lsp.util._get_line_byte_from_position, bufnr, { line = row, character = character }, encoding)
  if ok and col then
    return col
  end
  ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  return ok and col or character
end

local function stop_timer(st)
  if st.timer then
    st.timer:stop()
  end
end

local function cancel_inflight(st)
  local f = st.inflight
  st.inflight = nil
  if f then
    local client = vim.lsp.get_client_by_id(f.client_id)
    if client then
      pcall(lsp.cancel, client, f.id)
    end
  end
end

--- Remove the drawn suggestion (the request state is left alone).
local function clear(st)
  if st.sugg then
    pcall(api.nvim_buf_clear_namespace, st.bufnr, M.ns, 0, -1)
    st.sugg = nil
  end
end

local function display(text)
  local ts = vim.bo.tabstop > 0 and vim.bo.tabstop or 8
  return (text:gsub("\t", string.rep(" ", ts)))
end

local function draw(st)
  local s = st.sugg
  api.nvim_buf_clear_namespace(st.bufnr, M.ns, 0, -1)
  if not s then
    return
  end
  local hl = options().hl_group
  local lines = vim.split(s.text, "\n", { plain = true })
  local opts = { hl_mode = "combine", priority = 200 }
  if lines[1] ~= "" then
    opts.virt_text = { { display(lines[1]), hl } }
    opts.virt_text_pos = "inline"
  end
  if #lines > 1 then
    local virt_lines = {}
    for i = 2, #lines do
      virt_lines[#virt_lines + 1] = { { display(lines[i]), hl } }
    end
    opts.virt_lines = virt_lines
  end
  local ok, id = pcall(api.nvim_buf_set_extmark, st.bufnr, M.ns, s.row, s.col, opts)
  s.extmark = ok and id or nil
end

--- Plain text of an item's insertText (a snippet's placeholders become their text).
local function item_text(item)
  local t = item.insertText
  if type(t) == "string" then
    return t
  end
  if type(t) == "table" and type(t.value) == "string" then
    local ok, parsed = pcall(function()
      return tostring(require("vim.lsp._snippet_grammar").parse(t.value))
    end)
    return ok and parsed or t.value
  end
  return nil
end

--- Turn an InlineCompletionItem into what to show at the cursor, or nil when it does not fit.
---@return tierline.Suggestion?
local function to_suggestion(st, client, item, row, col)
  local text = item_text(item)
  if not text or text == "" then
    return nil
  end
  local suffix_len = 0
  local r = item.range
  if type(r) == "table" and r.start and r["end"] then
    if r.start.line ~= row then
      return nil -- a replacement that starts on another line: not shown
    end
    local enc = client.offset_encoding or "utf-16"
    local start_col = byte_col(st.bufnr, row, r.start.character, enc)
    if start_col > col then
      return nil
    end
    -- The part of the range before the cursor is already typed: it must start the text.
    local line = api.nvim_buf_get_lines(st.bufnr, row, row + 1, false)[1] or ""
    local typed = line:sub(start_col + 1, col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
    if r["end"].line == row then
      local end_col = byte_col(st.bufnr, row, r["end"].character, enc)
      suffix_len = math.max(0, end_col - col)
    end
  end
  if text == "" then
    return nil
  end
  return {
    row = row,
    col = col,
    text = text,
    suffix_len = suffix_len,
    tick = tick(st.bufnr),
    client_id = client.id,
    item = item,
  }
end

--- Tell the server an item is displayed (`textDocument/didShowCompletion`, as copilot's clients do).
local function shown(s)
  local client = vim.lsp.get_client_by_id(s.client_id)
  if client then
    pcall(lsp.notify, client, "textDocument/didShowCompletion", { item = s.item })
  end
end

--- Send `textDocument/inlineCompletion` for the cursor now.
---@param st tierline.BufState
---@param kind integer trigger kind
---@param want? integer which item to show first when they come (cycling asks, then moves on)
function M.request(st, kind, want)
  stop_timer(st)
  cancel_inflight(st)
  local bufnr = st.bufnr
  if api.nvim_get_current_buf() ~= bufnr or not in_insert() then
    return
  end
  local client = lsp.get_client(bufnr)
  if not client then
    return
  end
  st.seq = st.seq + 1
  local seq = st.seq
  local row, col = cursor()
  local at_tick = tick(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding or "utf-16")
  params.context = { triggerKind = kind }
  local ok, id = lsp.request(client, "textDocument/inlineCompletion", params, function(err, result)
    if st.inflight and st.inflight.seq == seq then
      st.inflight = nil
    end
    if seq ~= st.seq or not api.nvim_buf_is_valid(bufnr) then
      return -- a newer request was sent
    end
    if err then
      if err.code ~= REQUEST_CANCELLED then
        vim.notify_once("tierline: inline completion failed: " .. tostring(err.message), vim.log.levels.WARN)
      end
      return
    end
    -- An answer for an older buffer state or cursor is useless.
    if tick(bufnr) ~= at_tick or api.nvim_get_current_buf() ~= bufnr or not in_insert() then
      return
    end
    local r2, c2 = cursor()
    if r2 ~= row or c2 ~= col then
      return
    end
    local items = type(result) == "table" and (result.items or result) or {}
    st.items = {}
    for _, item in ipairs(items) do
      local s = to_suggestion(st, client, item, row, col)
      if s then
        st.items[#st.items + 1] = s
      end
    end
    if #st.items > 0 then
      st.index = math.min(want or 1, #st.items)
      local s = st.items[st.index]
      st.sugg = s
      draw(st)
      shown(s)
      pcall(api.nvim_exec_autocmds, "User", { pattern = "TierlineSuggestion", data = { bufnr = bufnr, text = s.text, index = st.index, count = #st.items }, modeline = false })
    end
  end, bufnr)
  if ok and id then
    st.inflight = { client_id = client.id, id = id, seq = seq }
  end
end

--- Ask on the next turn of the event loop (changes of one turn ask once), or after `debounce_ms` of
--- quiet when set: the server owns the wait before a model call.
function M.schedule(st)
  stop_timer(st)
  cancel_inflight(st)
  if not options().auto_trigger or vim.fn.pumvisible() == 1 then
    return
  end
  st.timer = st.timer or vim.uv.new_timer()
  st.timer:start(options().debounce_ms, 0, vim.schedule_wrap(function()
    if M.states[st.bufnr] == st then
      M.request(st, TRIGGER_AUTOMATIC)
    end
  end))
end

--- The text typed since the suggestion was drawn matches its start: keep the rest visible.
local function type_through(st)
  local s = st.sugg
  local row, col = cursor()
  if row ~= s.row or col <= s.col then
    return false
  end
  local line = api.nvim_get_current_line()
  local typed = line:sub(s.col + 1, col)
  if s.text:sub(1, #typed) ~= typed or #typed >= #s.text then
    return false
  end
  s.text = s.text:sub(#typed + 1)
  s.col = col
  s.tick = tick(st.bufnr)
  draw(st)
  return true
end

local function on_text_changed(st)
  if st.sugg then
    if st.sugg.tick == tick(st.bufnr) then
      return -- our own edit (partial accept), already redrawn
    end
    if type_through(st) then
      return
    end
    clear(st)
  end
  M.schedule(st)
end

local function on_cursor_moved(st)
  local row, col = cursor()
  if st.sugg then
    if st.sugg.tick ~= tick(st.bufnr) then
      return -- typing: TextChangedI decides
    end
    if row == st.sugg.row and col == st.sugg.col then
      return
    end
    clear(st)
  end
  -- A pure cursor move: a pending request is for another position.
  stop_timer(st)
  cancel_inflight(st)
end

--- Tell the server what became of a suggestion: run the item's `tierline.accepted` command with
--- its arguments, plus `{kind, chars}` for a partial accept or a dismissal (docs/acceptance.md).
---@param s tierline.Suggestion
---@param detail? {kind: string, chars?: integer}
local function report(s, detail)
  local command = type(s.item) == "table" and s.item.command or nil
  if type(command) ~= "table" or command.command ~= "tierline.accepted" then
    return
  end
  local arguments = vim.deepcopy(command.arguments or {})
  if detail then
    arguments[#arguments + 1] = detail
  end
  pcall(lsp.execute, command.command, arguments, function() end)
end

function M.dismiss(bufnr)
  local st = M.states[bufnr or api.nvim_get_current_buf()]
  if not st then
    return false
  end
  stop_timer(st)
  cancel_inflight(st)
  local had = st.sugg ~= nil
  if had then
    report(st.sugg, { kind = "dismiss" })
  end
  clear(st)
  return had
end

function M.is_visible(bufnr)
  local st = M.states[bufnr or api.nvim_get_current_buf()]
  return st ~= nil and st.sugg ~= nil
end

--- The suggestion text still to be inserted, or nil.
function M.get_text(bufnr)
  local st = M.states[bufnr or api.nvim_get_current_buf()]
  return st and st.sugg and st.sugg.text or nil
end

local function piece_of(text, what)
  if what == "word" then
    return text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text
  elseif what == "line" then
    if text:sub(1, 1) == "\n" then
      return text:match("^\n[^\n]*")
    end
    return text:match("^[^\n]*")
  end
  return text
end

--- Insert all or part of the suggestion. Must run outside textlock (e.g. from `<Cmd>`).
---@param what? "all"|"word"|"line"
---@return boolean accepted
function M.accept(what, bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local st = M.states[bufnr]
  if not st or not st.sugg then
    return false
  end
  local s = st.sugg
  local piece = piece_of(s.text, what or "all")
  local full = #piece >= #s.text
  local lines = vim.split(piece, "\n", { plain = true })
  local end_col = s.col + (full and s.suffix_len or 0)
  local line_len = #(api.nvim_buf_get_lines(bufnr, s.row, s.row + 1, false)[1] or "")
  end_col = math.min(end_col, line_len)
  stop_timer(st)
  cancel_inflight(st)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  api.nvim_buf_set_text(bufnr, s.row, s.col, s.row, end_col, lines)
  local new_row = s.row + #lines - 1
  local new_col = (#lines == 1 and s.col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  report(s, (not full) and { kind = what, chars = vim.fn.strchars(piece) } or nil)
  if full then
    st.sugg = nil -- TextChangedI will ask for the next one
  else
    s.text = s.text:sub(#piece + 1)
    s.row, s.col = new_row, new_col
    s.tick = tick(bufnr)
    draw(st)
  end
  return true
end

--- Show the next (`delta` 1) or previous (-1) item of the answer: an invoked request near a tier
--- boundary gives the cheap and premium answers too. With fewer than two items to cycle through,
--- ask again with trigger kind Invoked (as VS Code's Alt+] does) and show the next item it brings.
---@return boolean cycled
function M.cycle(delta, bufnr)
  local st = M.states[bufnr or api.nvim_get_current_buf()]
  if not st then
    return false
  end
  local s = st.sugg
  local fresh = s ~= nil and s.tick == tick(st.bufnr) and st.items and #st.items > 1
  -- Typed through or partly accepted: the other items no longer fit where the cursor is.
  if fresh then
    for _, other in ipairs(st.items) do
      fresh = fresh and other.row == s.row and other.col == s.col
    end
  end
  if not fresh then
    local want = s and 1 + (delta > 0 and 1 or 0) or 1
    clear(st)
    M.request(st, TRIGGER_INVOKED, want)
    return false
  end
  st.index = (st.index - 1 + delta) % #st.items + 1
  st.sugg = st.items[st.index]
  st.sugg.tick = tick(st.bufnr)
  draw(st)
  shown(st.sugg)
  pcall(api.nvim_exec_autocmds, "User", { pattern = "TierlineSuggestion", data = { bufnr = st.bufnr, text = st.sugg.text, index = st.index, count = #st.items }, modeline = false })
  return true
end

--- Ask now (trigger kind Invoked), whatever `auto_trigger` says.
function M.trigger(bufnr)
  local st = M.states[bufnr or api.nvim_get_current_buf()]
  if st then
    clear(st)
    M.request(st, TRIGGER_INVOKED)
  end
end

function M.attach(client, bufnr)
  if M.states[bufnr] then
    return
  end
  local group = api.nvim_create_augroup("tierline.ghost." .. bufnr, { clear = true })
  ---@type tierline.BufState
  local st = { bufnr = bufnr, seq = 0, augroup = group, items = {}, index = 1 }
  M.states[bufnr] = st
  api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      on_text_changed(st)
    end,
  })
  api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      on_cursor_moved(st)
    end,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.dismiss(bufnr)
    end,
  })
  api.nvim_create_autocmd("BufUnload", {
    group = group,
    buffer = bufnr,
    callback = function()
      M.detach(bufnr)
    end,
  })
end

function M.detach(bufnr)
  local st = M.states[bufnr]
  if not st then
    return
  end
  M.dismiss(bufnr)
  if st.timer then
    st.timer:stop()
    if not st.timer:is_closing() then
      st.timer:close()
    end
  end
  pcall(api.nvim_del_augroup_by_id, st.augroup)
  M.states[bufnr] = nil
end

return M
