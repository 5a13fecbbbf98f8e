--- Buffer-local insert-mode keymaps. Each is an `expr` mapping: while a suggestion is shown it
--- acts, otherwise it falls through to what the key did before (another mapping or the key).
local M = {}

local saved_callbacks = {} ---@type table<integer, function>
local next_id = 0

local function is_ours(map)
  return type(map.desc) == "string" and map.desc:sub(1, 9) == "tierline:"
end

--- What to do when no suggestion is shown: replay the previous mapping of `lhs`, or the key.
local function fallback(orig, lhs)
  if not orig or vim.tbl_isempty(orig) or is_ours(orig) then
    return lhs -- our mapping is noremap with replace_keycodes: the key's own meaning
  end
  local keys
  if orig.expr == 1 then
    if orig.callback then
      keys = orig.callback()
    else
      local ok, v = pcall(vim.api.nvim_eval, orig.rhs)
      keys = ok and v or ""
    end
    if type(keys) ~= "string" then
      return ""
    end
  elseif orig.callback then
    next_id = next_id + 1
    saved_callbacks[next_id] = orig.callback
    return ("<Cmd>lua require('tierline.keymaps')._call(%d)<CR>"):format(next_id)
  else
    keys = orig.rhs or ""
  end
  if orig.noremap == 1 then
    return keys
  end
  -- A remapping rhs (e.g. <Plug>(...)): feed it so that mappings apply.
  vim.api.nvim_feedkeys(vim.keycode(keys), "im", false)
  return ""
end

function M._call(id)
  local cb = saved_callbacks[id]
  saved_callbacks[id] = nil
  if cb then
    cb()
  end
end

---@param bufnr integer
---@param lhs string|false
---@param desc string
---@param action string Lua expression run with <Cmd> when a suggestion is shown
---@param always? boolean act even when nothing is shown
local function map(bufnr, lhs, desc, action, always)
  if not lhs or lhs == "" then
    return
  end
  local orig = vim.api.nvim_buf_call(bufnr, function()
    return vim.fn.maparg(lhs, "i", false, true)
  end)
  vim.keymap.set("i", lhs, function()
    if always or require("tierline").is_visible() then
      return "<Cmd>lua " .. action .. "<CR>"
    end
    return fallback(orig, lhs)
  end, { buffer = bufnr, expr = true, silent = true, desc = "tierline: " .. desc })
end

function M.attach(bufnr)
  local k = require("tierline.config").options.keymaps
  map(bufnr, k.accept, "accept the suggestion", "require('tierline').accept()")
  map(bufnr, k.accept_word, "accept the next word", "require('tierline').accept_word()")
  map(bufnr, k.accept_line, "accept the next line", "require('tierline').accept_line()")
  map(bufnr, k.dismiss, "dismiss the suggestion", "require('tierline').dismiss()")
  map(bufnr, k.trigger, "ask for a suggestion", "require('tierline').trigger()", true)
  map(bufnr, k.next, "show the next alternative", "require('tierline').next()", true)
  map(bufnr, k.prev, "show the previous alternative", "require('tierline').prev()", true)
  map(bufnr, k.escalate, "ask the premium tier", "require('tierline').escalate()", true)
  map(bufnr, k.snooze, "snooze automatic suggestions, or resume", "require('tierline.snooze').toggle()", true)
end

function M.detach(bufnr)
  local k = require("tierline.config").options.keymaps
  for _, lhs in pairs(k) do
    if lhs then
      pcall(vim.keymap.del, "i", lhs, { buffer = bufnr })
    end
  end
end

return M
